#pragma once
// The command a run's worker executes, built on the master at dispatch (SEMANTICS.md §7): the
// job type's template (command_table.h) filled from the run's configs, run as another Linux
// user when the job asks for one (config hera.run_as) and the master allows it. Pure.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "master/command_table.h"

namespace hera::master {

// How the master builds commands, from the flags of `hera server` / `hera standalone`.
struct CommandPolicy {
  CommandTable templates;     // --command; default: the built-in templates
  bool allow_run_as = false;  // --allow-run-as; off: a job naming hera.run_as fails
};

struct RunCommand {
  std::vector<std::string> argv;  // run in the work directory
  std::string script_name;        // the rendered script is written there first
};

// The command for a run of `type` in `host_group` with its effective `configs` (without
// secrets: argv shows in ps). With hera.run_as = USER, argv starts with
// `sudo -n -u USER --preserve-env=NAMES --`, NAMES being `env_names` (the variables Hera sets
// for the run, which sudo would otherwise drop). InvalidArgument "could not build the command:
// ..." naming the template and what is wrong (a missing config, a value that does not split, a
// bad user name, run-as disabled).
absl::StatusOr<RunCommand> BuildRunCommand(const CommandPolicy& policy, core::JobType type,
                                           std::string_view host_group,
                                           const core::Configs& configs,
                                           const std::vector<std::string>& env_names);

// OK if `user` may be given to sudo -u: [a-z_][a-z0-9_-]*, at most 32 characters (useradd's
// rules, without the trailing '$'); InvalidArgument quoting it otherwise.
absl::Status ValidateUserName(std::string_view user);

}  // namespace hera::master
