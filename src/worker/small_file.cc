#include "worker/small_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/fd_io.h"
#include "common/unique_fd.h"

namespace hera::worker {
namespace {

absl::Status ErrnoError(const char* call, const std::string& path) {
  return absl::InternalError(absl::StrCat(call, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::optional<std::string>> ReadSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ErrnoError("open", path);
  }
  std::string contents;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read", path);
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  return std::optional<std::string>(std::move(contents));
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoError("open", tmp);
    if (absl::Status st = WriteAll(fd.get(), contents); !st.ok()) {
      return absl::InternalError(absl::StrCat(tmp, ": ", st.message()));
    }
    if (::fsync(fd.get()) != 0) return ErrnoError("fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("rename", tmp);
  // The rename itself is durable only once the directory is synced.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  UniqueFd dir_fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return ErrnoError("open", dir);
  if (::fsync(dir_fd.get()) != 0) return ErrnoError("fsync", dir);
  return absl::OkStatus();
}

}  // namespace hera::worker
