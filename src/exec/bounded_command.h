#pragma once
// A short helper command run to completion with a time limit, its output kept for the error
// message: e.g. `hdfs dfs -get URI DEST` fetching a run's download.

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hera::exec {

struct CommandResult {
  int wait_status = 0;  // as waitpid() gives it (see FromWaitStatus in exec/outcome.h)
  std::string output;   // stdout and stderr interleaved: the last `max_output` bytes
};

// Runs argv directly, never through a shell (argv[0] is looked up in the PATH of `env` unless
// it contains a '/'), with exactly `env` ("KEY=value") in `cwd`, stdin from /dev/null, in its
// own process group, and waits for it. Returns how it ended once its main process exited (the
// rest of its group is then killed). DeadlineExceeded when it still ran after `timeout`, and
// Cancelled when `*cancel` (may be null) became true (checked every 100 ms): in both cases the
// whole group is killed first. The spawn's error when it could not start (NotFound for a
// program missing from PATH). Must not run where SIGCHLD is ignored or another thread reaps
// children it does not own (waitpid(-1)).
absl::StatusOr<CommandResult> RunBoundedCommand(const std::vector<std::string>& argv,
                                                const std::vector<std::string>& env,
                                                const std::string& cwd, absl::Duration timeout,
                                                const std::atomic<bool>* cancel,
                                                size_t max_output = 4096);

}  // namespace hera::exec
