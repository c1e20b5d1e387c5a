#pragma once
// How a job process ended: a value, not an error (STYLE 2.3).

#include <optional>
#include <string>
#include <variant>

#include "absl/time/time.h"

namespace hera::exec {

// The main process exited normally with `code` (0-255).
struct Exited {
  int code = 0;
};
// The main process was terminated by `signal`.
struct Signaled {
  int signal = 0;
};
// The process never ran: the work directory, script, log file or exec failed (or the run was
// cancelled before it was spawned). `error` says which, with the system's reason.
struct SpawnFailed {
  std::string error;
};

struct Outcome {
  std::variant<Exited, Signaled, SpawnFailed> how;
  // We killed the process group because the run's timeout expired.
  bool timed_out = false;
  // We killed the process group because Cancel() or Shutdown() was called.
  bool cancelled = false;
  // The run's timeout; meaningful only when timed_out (for Describe()).
  absl::Duration timeout = absl::ZeroDuration();
  // Non-empty when writing work_dir/output.log failed; output still reached the listener.
  std::string log_error;
  // When the runner saw the run end (its process group gone, its slot free), by the runner's
  // clock: before any run that takes the slot starts. Unset for runs that never spawned.
  std::optional<absl::Time> ended_at;

  // True only for Exited{0} that was neither timed out nor cancelled.
  bool ok() const;
  // One line for logs and the UI: "exit code 7", "killed by signal 9 (timeout after 30s)",
  // "failed to start: bash: not found in PATH".
  std::string Describe() const;
};

// Converts a waitpid()-style status (WIFEXITED/WIFSIGNALED) into Exited or Signaled.
std::variant<Exited, Signaled, SpawnFailed> FromWaitStatus(int status);

}  // namespace hera::exec
