#pragma once
// What a save can know of its runs before they happen (issue: a misspelt macro found at 3 a.m.):
// a job's script renders and its command builds exactly as a run's would; a group's configs
// expand without a reference cycle and their date macros parse. Pure apart from the catalog
// and the secret key it is given; used by the engine as the scheduler's definition checks.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/catalog.h"
#include "core/model.h"
#include "master/run_command.h"
#include "master/secret_box.h"

namespace hera::master {

// `job`, about to be saved, rendered as a run scheduled at `now` would be (its zone, its
// group's configs as `catalog` holds them, its secrets decrypted in memory and dropped, its
// command built from `commands` when given). InvalidArgument with the run's own error,
// prefixed with "the job would fail when it runs: ".
absl::Status CheckJobRenders(const core::Job& job, const core::Catalog& catalog, absl::Time now,
                             const absl::TimeZone& server_zone, const SecretBox* box,
                             const CommandPolicy* commands);

// `group`, about to be saved: each of its effective configs (its own over its ancestors'),
// secrets aside, expands and evaluates its date macros at `now`. InvalidArgument naming the
// key: "field 'configs': config 'b': config reference cycle: b -> c -> b".
absl::Status CheckGroupConfigs(const core::Group& group, const core::Catalog& catalog,
                               absl::Time now, const absl::TimeZone& server_zone);

}  // namespace hera::master
