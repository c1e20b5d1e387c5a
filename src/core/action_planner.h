#pragma once
// Which actions a set of jobs should have in a time window, and which upstream actions each
// one waits for (SEMANTICS.md §2). Pure: no IO, clock or threads; time comes in as parameters.
// The caller compares the plan with the stored actions (keeping status and history of those
// that still match) and writes the difference.

#include <compare>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/model.h"

namespace hera::core {

// An action's identity: (job, scheduled time). Ordered by job, then time.
struct ActionKey {
  JobId job = 0;
  absl::Time time = absl::UnixEpoch();

  friend bool operator==(const ActionKey&, const ActionKey&) = default;
  friend std::strong_ordering operator<=>(const ActionKey& a, const ActionKey& b) {
    if (auto c = a.job <=> b.job; c != 0) return c;
    if (a.time < b.time) return std::strong_ordering::less;
    if (b.time < a.time) return std::strong_ordering::greater;
    return std::strong_ordering::equal;
  }
  template <typename H>
  friend H AbslHashValue(H h, const ActionKey& k) {
    return H::combine(std::move(h), k.job, k.time);
  }
};

struct PlannedAction {
  ActionKey key;
  // The upstream actions it waits for, ascending, without repeats; includes the job's own
  // previous action when the job has self_dependency.
  std::vector<ActionKey> upstream;
  // Empty, or why an upstream has no matching action (the action is planned anyway and stays
  // blocked), one clause per upstream joined by "; ":
  //   "waiting for job 42: no action on 2026-11-23"                  (nearest, all_of_day)
  //   "waiting for job 42: no action on 2026-11-22"                  (previous_day: that day)
  //   "waiting for job 42: no action at or before 2026-11-23 08:00:00"  (latest_before)
  //   "waiting for job 42 (disabled): no action on 2026-11-23"       (upstream known disabled)
  // Dates and times are civil, in the downstream job's zone.
  std::string blocked_reason;

  friend bool operator==(const PlannedAction&, const PlannedAction&) = default;
};

struct PlanInput {
  // The jobs to plan: each enabled job gets its actions. Disabled jobs get none, but listing
  // them lets a blocked_reason say that an upstream is disabled. A job whose upstream is not
  // listed links to that upstream's `existing` actions only. Borrowed: must outlive the call.
  std::vector<const Job*> jobs;
  // Scheduled times are planned in [from, to).
  absl::Time from = absl::UnixEpoch();
  absl::Time to = absl::UnixEpoch();
  // The zone of jobs whose schedule.timezone is empty (the server's zone)...
  absl::TimeZone default_tz = absl::UTCTimeZone();
  // ...unless they are listed here (IANA names): dependent jobs that inherit a zone (ZoneOf).
  std::map<JobId, std::string> inherited_zones;
  // Actions that already exist (any status), per job, ascending by time (an unsorted list or
  // repeated times are tolerated, at the cost of a sorted copy). Upstream links and
  // self-dependency use the union of these and the planned actions: so a link may reach before
  // the window (latest_before, previous_day, the previous action), and dependent jobs follow
  // upstream actions that exist even if the upstream's cron has changed. Counting an
  // upstream's actions of a day (to choose the base) also uses them, so pass at least the
  // whole civil days the window touches plus the day before.
  std::map<JobId, std::vector<absl::Time>> existing;
  // A cron firing more often than this in the window is an error (a guard against `* * * * * ?`
  // planned over months).
  size_t max_actions_per_job = 100000;
};

// The actions of the enabled jobs in `in.jobs`, sorted by job then time:
//  - timed job (cron, no upstream): one action per fire time in [from, to), in its zone;
//  - dependent job without a cron: per civil day of its zone, the base upstream gives one
//    action per base action at the same time. The base is chosen among the upstreams with an
//    action that day (those on a `nearest` edge if any of them has one): fewest actions that
//    day, then the later first action, then the lower id. A day on which no upstream has an
//    action gets none (there is no time to give it);
//  - job with a cron and upstreams: its own fire times;
//  - every upstream (the base included) is linked by its edge period: nearest (same civil day,
//    nearest in time, the earlier on a tie), all_of_day, latest_before (at or before, any day),
//    previous_day (the last one of the previous civil day);
//  - self_dependency: also linked to the job's previous action (strictly earlier), if any.
// Jobs are planned upstreams first, so a dependent job sees its upstreams' planned actions.
// Errors: InvalidArgument naming the job for a bad cron, an unknown time zone or a repeated
// job id; FailedPrecondition naming the cycle when enabled jobs depend on each other in a
// cycle; ResourceExhausted when a job exceeds max_actions_per_job.
absl::StatusOr<std::vector<PlannedAction>> PlanActions(const PlanInput& in);

}  // namespace hera::core
