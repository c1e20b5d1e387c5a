#include "core/job_zone.h"

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hera::core {
namespace {

// The upstreams a dependent job's times come from, in the order they decide its zone: those on
// `nearest` edges (the planner's choice of base) before the others, each as listed.
std::vector<JobId> ZoneCandidates(const Job& job) {
  std::vector<JobId> out;
  for (bool nearest : {true, false}) {
    for (const Dependency& d : job.schedule.depends_on) {
      if ((d.period == DependencyPeriod::kNearest) == nearest) out.push_back(d.job_id);
    }
  }
  return out;
}

// Memo: a job's zone once resolved, so a DAG full of diamonds is walked once per job.
using Memo = std::map<JobId, JobZone>;

JobZone Resolve(const Job& job, const JobFinder& find, std::set<JobId>& seen, Memo& memo) {
  if (!job.schedule.timezone.empty()) return {job.schedule.timezone, "the job's own zone", 0};
  if (!job.schedule.cron.empty()) {
    return {"", "the server's zone: the job has a cron and names no zone", 0};
  }
  if (job.schedule.depends_on.empty()) return {"", "the server's zone: the job names none", 0};
  seen.insert(job.id);
  std::optional<JobZone> first;
  bool differ = false;
  for (JobId up : ZoneCandidates(job)) {
    if (seen.count(up)) continue;  // a cycle (saves refuse them): ignore the edge
    const Job* upstream = find(up);
    if (!upstream) continue;
    auto known = memo.find(up);
    if (known == memo.end()) known = memo.emplace(up, Resolve(*upstream, find, seen, memo)).first;
    JobZone z = known->second;
    const std::string via = z.inherited_from ? ", which has it from its own upstreams" : "";
    z.reason = absl::StrCat("inherited from upstream job ", up, " ('", upstream->name, "')",
                            via, ": the job has no cron and names no zone, so its actions take "
                            "their times from that job");
    z.inherited_from = up;
    if (!first) {
      first = std::move(z);
    } else if (z.name != first->name) {
      differ = true;
    }
  }
  seen.erase(job.id);
  if (!first) return {"", "the server's zone: the job names none", 0};
  if (differ) {
    absl::StrAppend(&first->reason, " (its upstreams' zones differ: the first one listed on a "
                                    "'nearest' edge decides; name a zone on the job to choose)");
  }
  return *std::move(first);
}

}  // namespace

JobZone ZoneOfJob(const Job& job, const JobFinder& find, std::map<JobId, JobZone>* memo) {
  std::set<JobId> seen;
  if (memo) return Resolve(job, find, seen, *memo);
  Memo local;
  return Resolve(job, find, seen, local);
}

}  // namespace hera::core
