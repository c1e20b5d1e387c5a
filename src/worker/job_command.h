#pragma once
// How each job type is run on a worker: the command and the file the script goes into
// (SEMANTICS.md §7).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"

namespace hera::worker {

struct JobCommand {
  std::vector<std::string> argv;  // run in the work directory
  std::string script_name;        // the rendered script is written here first
};

// The command for `type`; Unimplemented for a type this worker cannot run yet.
absl::StatusOr<JobCommand> CommandFor(core::JobType type);

}  // namespace hera::worker
