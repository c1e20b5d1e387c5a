#pragma once
// What to run for one job run on this worker.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace hera::exec {

// The worker's full copy of a run's output, inside its work_dir.
inline constexpr char kOutputLogName[] = "output.log";

struct RunSpec {
  // Unique among the runs of one JobRunner at any time.
  int64_t run_id = 0;
  // The command, e.g. {"bash", "script.sh"}. argv[0] is looked up in the child's PATH (the
  // worker's, or the one in `env`) unless it contains a '/'; relative paths start at work_dir.
  std::vector<std::string> argv;
  // Written to work_dir/script_name (mode 0600, replacing any old file) before the start.
  std::string script;
  // A plain file name such as "script.sh" (no '/'). Empty: no script file is written.
  std::string script_name;
  // Added to the worker's environment (as captured when the JobRunner was created); a key
  // that is already there is overridden. Later entries win over earlier ones.
  std::vector<std::pair<std::string, std::string>> env;
  // The child's working directory; created (mkdir -p) if missing. Also holds output.log.
  std::string work_dir;
  // A Linux user the command runs as (through sudo, in argv): before the start, what is in the
  // work dir becomes that user's and the user's group may create files there, so the command
  // can read its script and write beside it (the directory and output.log stay the worker's).
  // Needs a worker running as root. Empty: the worker's own user.
  std::string run_as;
  // Zero: no timeout. On expiry: SIGTERM to the process group, kill_grace, SIGKILL.
  absl::Duration timeout = absl::ZeroDuration();
  // Values (the run's secrets) replaced by as many '*' in output.log and in the output the
  // listener gets; offsets are those of the masked stream, which has the raw one's length.
  std::vector<std::string> masked;
};

// Checks what can be checked without touching the system: argv non-empty, work_dir non-empty,
// script_name a plain file name (and set if script is), env keys non-empty without '=', timeout
// not negative.
// Returns InvalidArgument naming the bad field.
absl::Status ValidateRunSpec(const RunSpec& spec);

}  // namespace hera::exec
