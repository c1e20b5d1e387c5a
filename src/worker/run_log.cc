#include "worker/run_log.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"
#include "exec/run_spec.h"

namespace hera::worker {
namespace {

std::string LogPath(const std::string& work_dir) {
  return absl::StrCat(work_dir, "/", exec::kOutputLogName);
}

}  // namespace

std::string WorkDirOf(const std::string& data_dir, int64_t run_id) {
  return absl::StrCat(data_dir, "/work/", run_id);
}

int64_t LogSize(const std::string& work_dir) {
  struct stat st;
  if (::stat(LogPath(work_dir).c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<std::string> ReadLog(const std::string& work_dir, int64_t offset,
                                    int64_t max_bytes) {
  const std::string path = LogPath(work_dir);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const std::string message = absl::StrCat("open ", path, ": ", std::strerror(errno));
    if (errno == ENOENT) return absl::NotFoundError(message);
    return absl::InternalError(message);
  }
  std::string data(static_cast<size_t>(max_bytes), '\0');
  size_t filled = 0;
  while (filled < data.size()) {
    ssize_t n = ::pread(fd.get(), data.data() + filled, data.size() - filled,
                        static_cast<off_t>(offset + static_cast<int64_t>(filled)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("read ", path, ": ", std::strerror(errno)));
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  data.resize(filled);
  return data;
}

}  // namespace hera::worker
