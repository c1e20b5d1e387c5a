// Rerun batches (重跑历史, SEMANTICS.md §9) in the Scheduler: one job's times run again in time
// order, each as its (job, time)'s action, and StartReplay, which backfills share.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time_format.h"
#include "core/scheduler.h"
#include "cron/cron_expr.h"

namespace hera::core {

absl::StatusOr<RerunBatch> Scheduler::CreateRerun(JobId job_id, absl::Time from, absl::Time to,
                                                   int parallelism, const std::string& actor,
                                                   absl::Time now, Effects* fx,
                                                   const std::vector<Action>& stored,
                                                   bool queue) {
  const Job* job = catalog_.FindJob(job_id);
  if (!job) return absl::NotFoundError(absl::StrCat("job ", job_id, " does not exist"));
  if (from > to) {
    return absl::InvalidArgumentError("field 'to': must not be before 'from'");
  }
  if (to - from > absl::Hours(24 * 366)) {
    return absl::InvalidArgumentError("field 'to': a rerun covers at most 366 days");
  }
  if (job->schedule.cron.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", job_id, " has no cron: a rerun replays the job's own scheduled times"));
  }
  auto cron = cron::CronExpr::Parse(job->schedule.cron);
  if (!cron.ok()) return cron.status();
  absl::TimeZone tz = tz_;
  if (!job->schedule.timezone.empty()) absl::LoadTimeZone(job->schedule.timezone, &tz);
  constexpr size_t kMaxItems = 10000;
  std::vector<absl::Time> times = cron->AllIn(from, to + absl::Nanoseconds(1), tz, kMaxItems + 1);
  if (times.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job ", job_id, "'s cron '", job->schedule.cron, "' has no time between ",
        FormatIsoTime(from, tz), " and ", FormatIsoTime(to, tz)));
  }
  if (times.size() > kMaxItems) {
    return absl::InvalidArgumentError(
        absl::StrCat("the range holds more than ", kMaxItems, " times; rerun a shorter one"));
  }
  auto batch =
      CreateRerunOfTimes(job_id, std::move(times), parallelism, 0, actor, now, fx, stored, queue);
  if (batch.ok()) {
    RerunBatch& b = reruns_.at(batch->id);
    b.from = from;
    b.to = to;
    fx->batch.reruns.push_back(b);  // later rows win
    return b;
  }
  return batch;
}

absl::StatusOr<RerunBatch> Scheduler::CreateRerunOfTimes(JobId job_id,
                                                         std::vector<absl::Time> times,
                                                         int parallelism, int64_t retry_of,
                                                         const std::string& actor,
                                                         absl::Time now, Effects* fx,
                                                         const std::vector<Action>& stored,
                                                         bool queue) {
  if (!catalog_.FindJob(job_id)) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " does not exist"));
  }
  if (parallelism < 1 || parallelism > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("field 'parallelism': ", parallelism, " is outside 1-32"));
  }
  if (times.empty()) return absl::InvalidArgumentError("there is nothing to rerun");
  if (shutting_down_) return absl::UnavailableError("hera is shutting down");
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  // Two batches over the same times would run each action twice.
  const RerunBatch* other = OverlappingRerun(job_id, times.front(), times.back(), 0);
  if (other && !queue) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rerun batch ", other->id, " of job ", job_id, " covers ",
        FormatIsoTime(other->items.front().time, tz_), " to ",
        FormatIsoTime(other->items.back().time, tz_),
        " and is still running; stop it, wait for it, or queue this one after it"));
  }
  // Times that have an action run it again: an action is one (job, time).
  std::map<absl::Time, const Action*> stored_at;
  for (const Action& a : stored) {
    if (a.job_id == job_id) stored_at.emplace(a.scheduled_time, &a);
  }
  RerunBatch b;
  b.id = ++ids_.rerun;
  b.job_id = job_id;
  b.from = times.front();
  b.to = times.back();
  b.parallelism = parallelism;
  b.retry_of = retry_of;
  b.created_by = actor;
  b.created_at = b.updated_at = now;
  if (other) {
    b.status = RerunStatus::kWaiting;
    b.after = other->id;
  }
  for (absl::Time t : times) {
    RerunItem item{t, 0};
    if (auto in_book = book_.FindByKey({job_id, t})) {
      item.action_id = *in_book;
    } else if (auto it = stored_at.find(t); it != stored_at.end()) {
      item.action_id = it->second->id;
      rerun_actions_[item.action_id] = *it->second;
    }
    b.items.push_back(item);
  }
  const int64_t id = b.id;
  reruns_[id] = std::move(b);
  PumpReruns(now, fx);
  fx->batch.reruns.push_back(reruns_.at(id));
  return reruns_.at(id);
}

void Scheduler::PumpReruns(absl::Time now, Effects* fx) {
  for (auto& [id, b] : reruns_) {
    const Job* job = catalog_.FindJob(b.job_id);
    bool changed = false;
    while (job && b.status == RerunStatus::kRunning && b.next < b.items.size() &&
           static_cast<int64_t>(b.next) - b.done - b.failed < b.parallelism &&
           reruns_in_flight_ < kMaxRerunsInFlight) {
      RerunItem& item = b.items[b.next++];
      StartRerunItem(b, item, *job, now, fx);
      changed = true;
    }
    if (changed) {
      b.updated_at = now;
      fx->batch.reruns.push_back(b);
    }
  }
}

void Scheduler::StartRerunItem(RerunBatch& b, RerunItem& item, const Job& job, absl::Time now,
                               Effects* fx) {
  ++reruns_in_flight_;
  bool adopted = false;
  item.action_id = StartReplay(item.action_id, job, item.time, b.created_by,
                               absl::StrCat("rerun batch ", b.id), now, fx, &adopted);
  rerun_of_action_[item.action_id] = b.id;
  if (adopted) rerun_adopted_.insert(item.action_id);
}

ActionId Scheduler::StartReplay(ActionId existing, const Job& job, absl::Time time,
                                const std::string& actor, const std::string& reason,
                                absl::Time now, Effects* fx, bool* adopted) {
  *adopted = false;
  if (existing && LiveRunOf(existing)) {
    // Running already (its schedule, a recovery): that run is the replay's.
    *adopted = true;
    return existing;
  }
  if (existing && book_.Find(existing)) {
    // An action of the window: run again like a recovery would, its downstream waiting anew.
    book_.OnRerun(existing);
    StartRun(existing, Trigger::kRerun, 1, actor, now, now, nullptr, fx);
    return existing;
  }
  ActiveRun active;
  Action& a = active.action;
  if (auto stored = rerun_actions_.find(existing); existing && stored != rerun_actions_.end()) {
    a = std::move(stored->second);  // its history (runs, links, creation) stays its own
    rerun_actions_.erase(stored);
  } else {
    a.id = ++ids_.action;
    a.job_id = job.id;
    a.scheduled_time = time;
    a.manual = true;
    a.created_at = now;
  }
  a.status = ActionStatus::kQueued;
  a.job_version = job.version;
  a.reason = reason;
  a.updated_at = now;
  Run& run = active.run;
  run.id = ++ids_.run;
  run.job_id = job.id;
  run.action_id = a.id;
  run.trigger = Trigger::kRerun;
  run.job_version = job.version;
  run.created_by = actor;
  run.queued_at = now;
  active.order = MakeOrder(job, run, a);
  fx->batch.actions.push_back(a);
  fx->batch.runs.push_back(run);
  const ActionId id = a.id;
  Enqueue(std::move(active), job.priority);
  return id;
}

void Scheduler::RerunItemEnded(ActionId id, RunStatus status, absl::Time now, Effects* fx) {
  if (auto it = backfill_of_action_.find(id); it != backfill_of_action_.end()) {
    const auto [backfill, node] = it->second;
    backfill_of_action_.erase(it);
    rerun_adopted_.erase(id);
    BackfillNodeEnded(backfill, node, status, now, fx);
  }
  auto it = rerun_of_action_.find(id);
  if (it == rerun_of_action_.end()) return;
  const int64_t batch = it->second;
  rerun_of_action_.erase(it);
  rerun_adopted_.erase(id);
  AfterRerunItem(batch, status, now, fx);
}

const RerunBatch* Scheduler::OverlappingRerun(JobId job, absl::Time from, absl::Time to,
                                              int64_t self) const {
  for (const auto& [id, other] : reruns_) {
    // A stopped batch is here until its last runs end: it overlaps too.
    if (id == self || other.job_id != job || other.items.empty()) continue;
    if (to < other.items.front().time || other.items.back().time < from) continue;
    // A batch waits only for those queued before it.
    if (self && other.status == RerunStatus::kWaiting && id > self) continue;
    return &other;
  }
  return nullptr;
}

void Scheduler::WakeWaitingReruns(absl::Time now, Effects* fx) {
  for (auto& [id, b] : reruns_) {
    if (b.status != RerunStatus::kWaiting || reruns_.count(b.after)) continue;
    const RerunBatch* other = OverlappingRerun(b.job_id, b.items.front().time,
                                               b.items.back().time, id);
    if (other) {
      b.after = other->id;
    } else {
      b.status = RerunStatus::kRunning;
      b.after = 0;
    }
    b.updated_at = now;
    fx->batch.reruns.push_back(b);
  }
}

void Scheduler::AfterRerunItem(int64_t batch, RunStatus status, absl::Time now, Effects* fx) {
  --reruns_in_flight_;
  auto it = reruns_.find(batch);
  if (it == reruns_.end()) return;
  RerunBatch& b = it->second;
  (status == RunStatus::kSuccess ? b.done : b.failed) += 1;
  b.updated_at = now;
  const bool idle = static_cast<int64_t>(b.next) == b.done + b.failed;
  if (idle && (b.next == b.items.size() || b.status == RerunStatus::kStopped)) {
    if (b.status == RerunStatus::kRunning) b.status = RerunStatus::kDone;
    fx->batch.reruns.push_back(b);
    reruns_.erase(it);
    WakeWaitingReruns(now, fx);
  } else {
    fx->batch.reruns.push_back(b);
  }
  PumpReruns(now, fx);
}

absl::StatusOr<RerunBatch> Scheduler::StopRerun(int64_t id, const std::string& actor,
                                                absl::Time now, Effects* fx) {
  auto it = reruns_.find(id);
  if (it == reruns_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("rerun batch ", id, " is not running"));
  }
  it->second.status = RerunStatus::kStopped;
  it->second.updated_at = now;
  std::vector<RunId> queued;
  for (const auto& [rid, r] : active_) {
    auto owner = rerun_of_action_.find(r.run.action_id);
    if (owner != rerun_of_action_.end() && owner->second == id && !r.dispatched &&
        !rerun_adopted_.count(r.run.action_id)) {
      queued.push_back(rid);
    }
  }
  for (RunId rid : queued) (void)CancelRun(rid, actor, now, fx);
  auto still = reruns_.find(id);
  if (still == reruns_.end()) {
    // It ended with its last cancel: its last write is its final state.
    for (auto b = fx->batch.reruns.rbegin(); b != fx->batch.reruns.rend(); ++b) {
      if (b->id == id) return *b;
    }
  }
  if (static_cast<int64_t>(still->second.next) == still->second.done + still->second.failed) {
    RerunBatch done = still->second;
    reruns_.erase(still);
    fx->batch.reruns.push_back(done);
    WakeWaitingReruns(now, fx);
    PumpReruns(now, fx);
    return done;
  }
  fx->batch.reruns.push_back(still->second);
  return still->second;
}

}  // namespace hera::core
