#pragma once
// Which actions a backfill runs and in what order (SEMANTICS.md §9, backfills): the jobs' own
// times in the range, by the same rules the schedule plans them (core/action_planner.h), and,
// with `downstream`, every job below them, each action after its upstream actions inside the
// backfill. Pure.

#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/catalog.h"
#include "core/model.h"

namespace hera::core {

// The nodes of a backfill of `request` over `catalog`, by time then job, each with its
// upstream node indices. `known` holds the actions that exist for the jobs involved and their
// direct upstreams (any status): a dependent job without a cron takes its times from its
// upstream's actions, and each node gets its (job, time)'s action id where there is one.
// Disabled jobs are planned as if enabled (a backfill is asked for by hand). Errors name the
// field: an unknown job, an empty or reversed range, more than 366 days, nothing to run, or
// more than 20,000 actions.
absl::StatusOr<std::vector<BackfillNode>> PlanBackfill(const Catalog& catalog,
                                                       const BackfillRequest& request,
                                                       const std::vector<Action>& known,
                                                       absl::TimeZone server_zone);

}  // namespace hera::core
