#pragma once
// One spawned child process that leads its own process group (STYLE 2.4, 2.5).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace hera::exec {

// Owns a child process and its pidfd. The child leads a new process group (pgid == pid), so
// signalling the group reaches every descendant that did not move to another group or session.
// The leader stays unreaped (a zombie once it exits) until Reap(): while it is unreaped its pid
// cannot be reused, so SignalGroup() can never hit an unrelated group.
// Destruction kills the whole group with SIGKILL and reaps the leader (like ninja's
// ~Subprocess), so a ChildProcess never leaks a running tree. Movable, not copyable; not
// thread-safe.
class ChildProcess {
 public:
  // Spawns argv (argv[0] is looked up in the PATH of `env` unless it contains a '/') with
  // exactly `env` ("KEY=value") as its environment and `cwd` as its working directory. stdin is
  // /dev/null; stdout and stderr both go to `output_fd` (the caller keeps its copy); no other fd
  // is inherited. The signal mask is emptied and signal dispositions reset to default (except
  // glibc's internal signals 32 and 33, which glibc leaves ignored). Returns an error if argv is
  // empty, the program is not found, or posix_spawn (chdir, exec) fails.
  static absl::StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                            const std::vector<std::string>& env,
                                            const std::string& cwd, int output_fd);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // The process group id; equal to pid().
  pid_t pgid() const { return pid_; }
  // Becomes readable when the leader exits. Valid until destruction.
  int pidfd() const { return pidfd_.get(); }
  // The child's start time as /proc/<pid>/stat gives it (field 22), when the spawn alone fixes
  // it: the clock did not pass a tick while the spawn ran (nearly always). Reading /proc costs
  // as much as the rest of the spawn, and waits for the child's exec to finish.
  std::optional<uint64_t> start_time() const { return start_time_; }
  bool reaped() const { return reaped_; }

  // Sends `signal` to every process in the group. A no-op after Reap(). Returns an error only
  // if kill() fails for a reason other than the group being gone.
  absl::Status SignalGroup(int signal);
  // Waits for the leader (blocking if it has not exited yet) and returns its waitpid() status.
  // Call once; an error means the status was lost (e.g. someone else reaped it).
  absl::StatusOr<int> Reap();

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd, std::optional<uint64_t> start_time)
      : pid_(pid), pidfd_(std::move(pidfd)), start_time_(start_time) {}
  void KillAndReap();

  pid_t pid_ = -1;  // -1 after a move.
  UniqueFd pidfd_;
  bool reaped_ = false;
  std::optional<uint64_t> start_time_;
};

}  // namespace hera::exec
