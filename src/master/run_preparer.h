#pragma once
// The last step before a run leaves the master (SEMANTICS.md §7): the order core made carries
// the job revision's raw script and own configs; this renders the script in Hera's order with
// the job's effective configs and exports its secrets to the environment.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/catalog.h"
#include "core/ports.h"
#include "master/run_command.h"
#include "master/secret_box.h"

namespace hera::master {

// Renders `order->script` at its scheduled time in its zone (`server_zone` when the job names
// none), with the order's configs over those of the job's groups as `catalog` holds them now
// (engine thread); fills `order->downloads`; appends each effective secret.* to `order->env`
// decrypted, under render::SecretEnvName; and leaves in `order->configs` the effective configs
// without the secrets. With `commands`, also fills `order->argv` and `order->script_name` from
// the template for the order's type and host group (master/run_command.h); without, leaves
// them for the worker to choose. Returns the secret values (for the log store to mask).
// On error `*order` is unchanged and the status says what failed: "could
// not render the script: line 2: ${zdt...}: ...", a secret that does not decrypt (naming the
// key, never the value), an unknown zone, or "could not build the command: ...".
absl::StatusOr<std::vector<std::string>> PrepareRun(const core::Catalog& catalog,
                                                    const SecretBox* box,
                                                    const absl::TimeZone& server_zone,
                                                    const CommandPolicy* commands,
                                                    core::DispatchOrder* order);
// PrepareRun with the configs of group `group_id` (0: none) and its ancestors, wherever the
// catalog has the job: for a job about to be saved into that group.
absl::StatusOr<std::vector<std::string>> PrepareRunInGroup(const core::Catalog& catalog,
                                                           core::GroupId group_id,
                                                           const SecretBox* box,
                                                           const absl::TimeZone& server_zone,
                                                           const CommandPolicy* commands,
                                                           core::DispatchOrder* order);

}  // namespace hera::master
