#include "worker/worker_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "worker/small_file.h"

namespace hera::worker {

std::string HostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

absl::StatusOr<std::string> LoadOrCreateWorkerId(const std::string& data_dir,
                                                 const std::string& configured) {
  if (!configured.empty()) return configured;
  const std::string path = data_dir + "/worker_id";
  absl::StatusOr<std::optional<std::string>> stored = ReadSmallFile(path);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    std::string id(absl::StripAsciiWhitespace(**stored));
    if (!id.empty()) return id;
  }
  // Random rather than derived from the host: two workers on one machine (two data dirs) must
  // not collide, and a reinstalled machine is a new worker.
  std::random_device random;
  std::string id = absl::StrFormat("%s-%06x", HostName(), random() & 0xFFFFFFu);
  if (absl::Status st = WriteFileAtomically(path, id + "\n"); !st.ok()) return st;
  return id;
}

absl::StatusOr<UniqueFd> LockWorkerDataDir(const std::string& data_dir) {
  const std::string path = data_dir + "/worker.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    (void)!::pread(fd.get(), pid, sizeof pid - 1, 0);
    return absl::FailedPreconditionError(absl::StrCat(
        "another hera worker (pid ", absl::StripAsciiWhitespace(pid),
        ") is using the data directory ", data_dir, "; stop it or pick another --data-dir"));
  }
  const std::string me = absl::StrCat(::getpid(), "\n");
  (void)!::ftruncate(fd.get(), 0);
  (void)!::pwrite(fd.get(), me.data(), me.size(), 0);
  return fd;
}

}  // namespace hera::worker
