#pragma once
// How each job type is run on a worker: the command and the file the script goes into
// (SEMANTICS.md §7).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "core/ports.h"

namespace hera::worker {

struct JobCommand {
  std::vector<std::string> argv;  // run in the work directory
  std::string script_name;        // the rendered script is written here first
  // The user argv runs as (it starts `sudo -n -u USER`), to be handed the work directory;
  // empty: the worker's own user.
  std::string run_as;
};

// The command for `type`; Unimplemented for a type this worker cannot run yet. Only for
// orders from a master too old to send their own command (see CommandOf).
absl::StatusOr<JobCommand> CommandFor(core::JobType type);

// The command `order` carries (the master builds it from its templates), or CommandFor its
// type when it carries none; errors as CommandFor.
absl::StatusOr<JobCommand> CommandOf(const core::DispatchOrder& order);

}  // namespace hera::worker
