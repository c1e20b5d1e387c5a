#include "core/backfill_plan.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "core/action_planner.h"

namespace hera::core {

absl::StatusOr<std::vector<BackfillNode>> PlanBackfill(const Catalog& catalog,
                                                       const BackfillRequest& request,
                                                       const std::vector<Action>& known,
                                                       absl::TimeZone server_zone) {
  constexpr size_t kMaxNodes = 20000;
  if (request.job_ids.empty()) {
    return absl::InvalidArgumentError("field 'job_ids': name at least one job");
  }
  if (request.from > request.to) {
    return absl::InvalidArgumentError("field 'to': must not be before 'from'");
  }
  if (request.to - request.from > absl::Hours(24 * 366)) {
    return absl::InvalidArgumentError("field 'to': a backfill covers at most 366 days");
  }
  std::set<JobId> members;
  for (JobId id : request.job_ids) {
    if (!catalog.FindJob(id)) {
      return absl::NotFoundError(absl::StrCat("field 'job_ids': job ", id, " does not exist"));
    }
    if (request.downstream) {
      for (JobId j : catalog.WithDownstream(id)) members.insert(j);
    } else {
      members.insert(id);
    }
  }
  // Planned as enabled, in upstream-first order (the planner wants upstreams first).
  std::vector<Job> jobs;
  for (JobId id : catalog.UpstreamFirst()) {
    if (!members.count(id)) continue;
    Job j = *catalog.FindJob(id);
    j.enabled = true;
    jobs.push_back(std::move(j));
  }
  PlanInput in;
  in.from = request.from;
  in.to = request.to + absl::Microseconds(1);
  in.default_tz = server_zone;
  for (const Job& j : jobs) {
    in.jobs.push_back(&j);
    if (j.schedule.timezone.empty() && j.schedule.cron.empty()) {
      if (std::string zone = catalog.ZoneOf(j).name; !zone.empty()) {
        in.inherited_zones.emplace(j.id, std::move(zone));
      }
    }
  }
  absl::flat_hash_map<ActionKey, ActionId> action_of;
  for (const Action& a : known) {
    in.existing[a.job_id].push_back(a.scheduled_time);
    action_of.try_emplace(ActionKey{a.job_id, a.scheduled_time}, a.id);
  }
  in.max_actions_per_job = kMaxNodes;
  HERA_ASSIGN_OR_RETURN(std::vector<PlannedAction> plan, PlanActions(in));
  // Only the range: the planner may link to times before it, which the backfill does not run.
  plan.erase(std::remove_if(plan.begin(), plan.end(),
                            [&](const PlannedAction& p) {
                              return !members.count(p.key.job) || p.key.time < request.from ||
                                     p.key.time > request.to;
                            }),
             plan.end());
  if (plan.empty()) {
    return absl::InvalidArgumentError(
        "the range holds no scheduled time of these jobs: nothing to backfill");
  }
  if (plan.size() > kMaxNodes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the backfill would run ", plan.size(), " actions (at most ", kMaxNodes,
        "); backfill a shorter range or fewer jobs"));
  }
  std::sort(plan.begin(), plan.end(), [](const PlannedAction& a, const PlannedAction& b) {
    return a.key.time != b.key.time ? a.key.time < b.key.time : a.key.job < b.key.job;
  });
  absl::flat_hash_map<ActionKey, int> index;
  for (size_t i = 0; i < plan.size(); ++i) index[plan[i].key] = static_cast<int>(i);
  std::vector<BackfillNode> nodes;
  nodes.reserve(plan.size());
  for (const PlannedAction& p : plan) {
    BackfillNode n;
    n.job_id = p.key.job;
    n.time = p.key.time;
    if (auto it = action_of.find(p.key); it != action_of.end()) n.action_id = it->second;
    for (const ActionKey& up : p.upstream) {
      if (auto it = index.find(up); it != index.end()) n.upstream.push_back(it->second);
    }
    std::sort(n.upstream.begin(), n.upstream.end());
    nodes.push_back(std::move(n));
  }
  return nodes;
}

}  // namespace hera::core
