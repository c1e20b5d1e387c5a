#include "core/action_planner.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "core/job_graph.h"
#include "cron/cron_expr.h"

namespace hera::core {
namespace {

using Times = std::vector<absl::Time>;
using TimeIt = Times::const_iterator;

const Times kNoTimes;

// The first instant of civil day `d` in `tz`. A day whose midnight is skipped by a
// spring-forward transition starts at the transition.
absl::Time DayStart(absl::CivilDay d, const absl::TimeZone& tz) {
  const absl::TimeZone::TimeInfo ti = tz.At(absl::CivilSecond(d));
  return ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre;
}

// One civil day of a zone as the instants [start, end).
struct Day {
  absl::CivilDay civil;
  absl::Time start, end;
};

Day DayOf(absl::CivilDay d, const absl::TimeZone& tz) {
  return Day{d, DayStart(d, tz), DayStart(d + 1, tz)};
}

// The times of `t` (sorted) in [from, to).
std::pair<TimeIt, TimeIt> Within(const Times& t, absl::Time from, absl::Time to) {
  return {std::lower_bound(t.begin(), t.end(), from), std::lower_bound(t.begin(), t.end(), to)};
}

// Fire times of one (cron text, zone), shared by every job that uses them: many jobs share a
// handful of expressions, and parsing plus evaluating dominates the cost of planning them.
struct FireTimes {
  absl::Status status;  // the parse error, if any
  Times times;
};

// One job being planned, resolved once.
struct JobPlan {
  const Job* job = nullptr;
  absl::TimeZone tz;
  const Times* fire_times = nullptr;  // null: the job has no cron
  std::vector<PlannedAction> actions;
};

class Planner {
 public:
  explicit Planner(const PlanInput& in) : in_(in) {}

  absl::StatusOr<std::vector<PlannedAction>> Run();

 private:
  absl::Status Resolve(JobPlan& p);
  absl::StatusOr<absl::TimeZone> Zone(const std::string& name);
  Times BaseTimes(const JobPlan& p) const;
  void Link(JobPlan& p) const;
  void LinkOne(const JobPlan& p, const Dependency& dep, absl::Time t, const Day& day,
               PlannedAction& a) const;
  const Times& Timeline(JobId id) const;
  void Block(PlannedAction& a, JobId upstream, std::string_view what) const;

  const PlanInput& in_;
  std::unordered_map<std::string, absl::TimeZone> zones_;
  std::unordered_map<std::string, FireTimes> fire_times_;
  std::unordered_set<JobId> disabled_;
  // Planned ∪ existing times of the planned jobs that a later job links to (downstreams,
  // self-dependency). Jobs not in here are seen through `in_.existing` only.
  std::unordered_map<JobId, Times> timelines_;
  // Sorted, repeat-free copies of the `existing` lists that were not (a repeat would count
  // twice when choosing a base).
  std::unordered_map<JobId, Times> normalized_;
};

absl::StatusOr<absl::TimeZone> Planner::Zone(const std::string& name) {
  if (name.empty()) return in_.default_tz;
  auto it = zones_.find(name);
  if (it != zones_.end()) return it->second;
  absl::TimeZone tz;
  // LoadTimeZone reads the zone database once per process and caches it; a plan is no
  // place to report IO problems, so an unreadable zone is simply unknown.
  if (!absl::LoadTimeZone(AsAbsl(name), &tz)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown time zone \"", AsAbsl(name), "\""));
  }
  zones_.emplace(name, tz);
  return tz;
}

absl::Status Planner::Resolve(JobPlan& p) {
  const Job& job = *p.job;
  const auto context = [&job] { return absl::StrCat("job ", job.id); };
  const auto inherited = in_.inherited_zones.find(job.id);
  auto tz = Zone(!job.schedule.timezone.empty() || inherited == in_.inherited_zones.end()
                     ? job.schedule.timezone
                     : inherited->second);
  if (!tz.ok()) return WithContext(tz.status(), AsStd(context()));
  p.tz = *tz;
  if (job.schedule.cron.empty()) return absl::OkStatus();

  std::string key = absl::StrCat(AsAbsl(job.schedule.cron), "\n", p.tz.name());
  auto [it, inserted] = fire_times_.try_emplace(std::move(key));
  FireTimes& ft = it->second;
  if (inserted) {
    absl::StatusOr<cron::CronExpr> expr = cron::CronExpr::Parse(job.schedule.cron);
    if (expr.ok()) {
      ft.times = expr->AllIn(in_.from, in_.to, p.tz, in_.max_actions_per_job + 1);
    } else {
      ft.status = expr.status();
    }
  }
  if (!ft.status.ok()) {
    return WithContext(
        ft.status, AsStd(absl::StrCat(context(), ": cron \"", AsAbsl(job.schedule.cron), "\"")));
  }
  if (ft.times.size() > in_.max_actions_per_job) {
    return absl::ResourceExhaustedError(
        absl::StrCat(context(), ": cron \"", AsAbsl(job.schedule.cron), "\" fires more than ",
                     in_.max_actions_per_job, " times between ", FormatIsoTime(in_.from), " and ",
                     FormatIsoTime(in_.to)));
  }
  p.fire_times = &ft.times;
  return absl::OkStatus();
}

const Times& Planner::Timeline(JobId id) const {
  if (auto it = timelines_.find(id); it != timelines_.end()) return it->second;
  if (auto it = normalized_.find(id); it != normalized_.end()) return it->second;
  if (auto it = in_.existing.find(id); it != in_.existing.end()) return it->second;
  return kNoTimes;
}

// Hera's rule for a dependent job without a cron, one civil day of its zone at a time.
Times Planner::BaseTimes(const JobPlan& p) const {
  // Distinct upstreams; an upstream counts as `nearest` if any of its edges is.
  std::vector<std::pair<JobId, bool>> ups;
  for (const Dependency& d : p.job->schedule.depends_on) {
    ups.emplace_back(d.job_id, d.period == DependencyPeriod::kNearest);
  }
  std::sort(ups.begin(), ups.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  ups.erase(std::unique(ups.begin(), ups.end(),
                        [](const auto& a, const auto& b) { return a.first == b.first; }),
            ups.end());

  Times out;
  for (absl::CivilDay d = absl::ToCivilDay(in_.from, p.tz);; ++d) {
    const Day day = DayOf(d, p.tz);
    if (day.start >= in_.to) break;
    // Candidate key: (not nearest, count, -first action, id): the smallest wins.
    struct Candidate {
      bool not_nearest;
      size_t count;
      absl::Time first;
      JobId id;
      std::pair<TimeIt, TimeIt> range;
    };
    std::optional<Candidate> base;
    for (const auto& [id, nearest] : ups) {
      const auto range = Within(Timeline(id), day.start, day.end);
      if (range.first == range.second) continue;
      Candidate c{!nearest, static_cast<size_t>(range.second - range.first), *range.first, id,
                  range};
      const auto better = [](const Candidate& a, const Candidate& b) {
        if (a.not_nearest != b.not_nearest) return !a.not_nearest;
        if (a.count != b.count) return a.count < b.count;
        if (a.first != b.first) return a.first > b.first;  // tie: the later first action
        return a.id < b.id;
      };
      if (!base || better(c, *base)) base = c;
    }
    if (!base) continue;  // no upstream acts that day: nothing to anchor an action to
    for (TimeIt t = base->range.first; t != base->range.second; ++t) {
      if (*t >= in_.from && *t < in_.to) out.push_back(*t);
    }
  }
  return out;
}

void Planner::Block(PlannedAction& a, JobId upstream, std::string_view what) const {
  if (!a.blocked_reason.empty()) a.blocked_reason += "; ";
  absl::StrAppend(&a.blocked_reason, "waiting for job ", upstream,
                  disabled_.contains(upstream) ? " (disabled)" : "", ": ", AsAbsl(what));
}

void Planner::LinkOne(const JobPlan& p, const Dependency& dep, absl::Time t, const Day& day,
                      PlannedAction& a) const {
  const Times& up = Timeline(dep.job_id);
  const auto link = [&](absl::Time ut) { a.upstream.push_back({dep.job_id, ut}); };
  switch (dep.period) {
    case DependencyPeriod::kNearest: {
      const auto [lo, hi] = Within(up, day.start, day.end);
      if (lo == hi) {
        Block(a, dep.job_id, absl::StrCat("no action on ", absl::FormatCivilTime(day.civil)));
        return;
      }
      TimeIt after = std::lower_bound(lo, hi, t);  // first at or after t
      if (after == hi) {
        link(*(hi - 1));
      } else if (after == lo) {
        link(*lo);
      } else {
        const TimeIt before = after - 1;
        link(t - *before <= *after - t ? *before : *after);  // tie: the earlier
      }
      return;
    }
    case DependencyPeriod::kAllOfDay: {
      const auto [lo, hi] = Within(up, day.start, day.end);
      if (lo == hi) {
        Block(a, dep.job_id, absl::StrCat("no action on ", absl::FormatCivilTime(day.civil)));
        return;
      }
      for (TimeIt u = lo; u != hi; ++u) link(*u);
      return;
    }
    case DependencyPeriod::kLatestBefore: {
      const TimeIt after = std::upper_bound(up.begin(), up.end(), t);
      if (after == up.begin()) {
        Block(a, dep.job_id,
              absl::StrCat("no action at or before ",
                           absl::FormatTime("%Y-%m-%d %H:%M:%S", t, p.tz)));
        return;
      }
      link(*(after - 1));
      return;
    }
    case DependencyPeriod::kPreviousDay: {
      const absl::CivilDay prev = day.civil - 1;
      const auto [lo, hi] = Within(up, DayStart(prev, p.tz), day.start);
      if (lo == hi) {
        Block(a, dep.job_id, absl::StrCat("no action on ", absl::FormatCivilTime(prev)));
        return;
      }
      link(*(hi - 1));
      return;
    }
  }
}

void Planner::Link(JobPlan& p) const {
  const Schedule& s = p.job->schedule;
  if (s.depends_on.empty() && !s.self_dependency) return;
  const Times* self = s.self_dependency ? &Timeline(p.job->id) : nullptr;
  std::optional<Day> day;
  for (PlannedAction& a : p.actions) {
    const absl::Time t = a.key.time;
    if (!s.depends_on.empty() && (!day || t < day->start || t >= day->end)) {
      day = DayOf(absl::ToCivilDay(t, p.tz), p.tz);
    }
    for (const Dependency& dep : s.depends_on) LinkOne(p, dep, t, *day, a);
    if (self != nullptr) {
      const TimeIt at = std::lower_bound(self->begin(), self->end(), t);
      if (at != self->begin()) a.upstream.push_back({p.job->id, *(at - 1)});
    }
    if (a.upstream.size() > 1) {
      std::sort(a.upstream.begin(), a.upstream.end());
      a.upstream.erase(std::unique(a.upstream.begin(), a.upstream.end()), a.upstream.end());
    }
  }
}

absl::StatusOr<std::vector<PlannedAction>> Planner::Run() {
  std::vector<const Job*> enabled;
  std::unordered_set<JobId> listed;
  listed.reserve(in_.jobs.size());
  for (const Job* job : in_.jobs) {
    assert(job != nullptr);
    if (!listed.insert(job->id).second) {
      return absl::InvalidArgumentError(absl::StrCat("job ", job->id, " is listed twice"));
    }
    if (job->enabled) {
      enabled.push_back(job);
    } else {
      disabled_.insert(job->id);
    }
  }
  std::sort(enabled.begin(), enabled.end(),
            [](const Job* a, const Job* b) { return a->id < b->id; });

  for (const auto& [id, times] : in_.existing) {
    if (std::adjacent_find(times.begin(), times.end(), std::greater_equal<>()) != times.end()) {
      Times copy = times;
      std::sort(copy.begin(), copy.end());
      copy.erase(std::unique(copy.begin(), copy.end()), copy.end());
      normalized_.emplace(id, std::move(copy));
    }
  }

  // Resolve zones and crons in id order, so the error reported is the lowest job's.
  std::vector<JobPlan> plans(enabled.size());
  std::unordered_map<JobId, size_t> pos;
  pos.reserve(enabled.size());
  for (size_t i = 0; i < enabled.size(); ++i) {
    plans[i].job = enabled[i];
    pos.emplace(enabled[i]->id, i);
    HERA_RETURN_IF_ERROR(Resolve(plans[i]));
  }

  const JobGraph graph = JobGraph::FromJobs(enabled);
  HERA_ASSIGN_OR_RETURN(const std::vector<JobId> order, graph.TopologicalOrder());

  size_t total = 0;
  for (JobId id : order) {
    auto it = pos.find(id);
    if (it == pos.end()) continue;  // an upstream that is not planned: existing actions only
    JobPlan& p = plans[it->second];
    const Job& job = *p.job;
    Times own;
    const Times* times = p.fire_times;
    if (times == nullptr && !job.schedule.depends_on.empty()) {
      own = BaseTimes(p);
      times = &own;
    }
    if (times == nullptr) continue;  // manual only
    p.actions.reserve(times->size());
    for (absl::Time t : *times) p.actions.push_back(PlannedAction{{job.id, t}, {}, {}});
    total += p.actions.size();

    // Later jobs (downstreams, or this job's own self-dependency) see planned ∪ existing.
    if (!graph.downstream(job.id).empty() || job.schedule.self_dependency) {
      const Times& existing = Timeline(job.id);
      Times merged;
      merged.reserve(times->size() + existing.size());
      std::set_union(times->begin(), times->end(), existing.begin(), existing.end(),
                     std::back_inserter(merged));
      timelines_[job.id] = std::move(merged);
    }
    Link(p);
  }

  std::vector<PlannedAction> out;
  out.reserve(total);
  for (JobPlan& p : plans) {
    std::move(p.actions.begin(), p.actions.end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<PlannedAction>> PlanActions(const PlanInput& in) {
  return Planner(in).Run();
}

}  // namespace hera::core
