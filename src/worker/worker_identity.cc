#include "worker/worker_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include <spdlog/spdlog.h>

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
  const std::string path = data_dir + "/worker_id";
  absl::StatusOr<std::optional<std::string>> stored = ReadSmallFile(path);
  if (!stored.ok()) return stored.status();
  std::string previous;
  if (stored->has_value()) previous = std::string(absl::StripAsciiWhitespace(**stored));
  if (configured.empty() && !previous.empty()) return previous;
  std::string id = configured;
  if (id.empty()) {
    // Random rather than derived from the host: two workers on one machine (two data dirs)
    // must not collide, and a reinstalled machine is a new worker.
    std::random_device random;
    id = absl::StrFormat("%s-%06x", HostName(), random() & 0xFFFFFFu);
  } else if (id == previous) {
    return id;
  } else if (!previous.empty()) {
    // The runs and results in this directory were the old worker's: the master gives them up.
    spdlog::warn("the worker in {} was '{}' and is now '{}': the master will not take the "
                 "results and runs it held as the old worker's",
                 data_dir, previous, id);
  }
  // Kept, so that the next start (with or without --id) is the same worker.
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
