// The scheduled side of the Scheduler: planning actions over the window, timers, readiness,
// retries and recoveries (SEMANTICS.md §2–5). Runs and dispatch are in scheduler.cc, rerun
// batches in scheduler_reruns.cc, backfills in scheduler_backfills.cc.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "common/time_format.h"
#include "core/action_planner.h"
#include "core/job_graph.h"
#include "core/scheduler.h"

#include "absl/container/flat_hash_map.h"
#include "cron/cron_expr.h"

namespace hera::core {
namespace {

absl::Time StartOfDay(absl::Time t, const absl::TimeZone& tz, int days_after) {
  const absl::CivilDay day = absl::ToCivilDay(t, tz) + days_after;
  return absl::FromCivil(absl::CivilSecond(day), tz);
}

// Triggers whose success lets downstream actions run (SEMANTICS.md §3).
bool NotifiesDownstream(Trigger t) {
  return t == Trigger::kSchedule || t == Trigger::kRecovery || t == Trigger::kSuperRecovery;
}

bool Retries(Trigger t) {
  return t == Trigger::kSchedule || t == Trigger::kRecovery || t == Trigger::kSuperRecovery;
}

bool NotStarted(ActionStatus s) {
  return s == ActionStatus::kPending || s == ActionStatus::kWaiting;
}

// An upstream action as a waiting downstream's reason shows it: "job 9 (action 66, running)",
// "job 9 (action 66) failed after 3 attempts: exit code 1", "job 9 (action 66) queued: retry 1
// of 3 at …".
std::string UpstreamState(const Action& u) {
  const std::string status = Name(u.status);
  if (u.reason.empty()) return absl::StrCat("job ", u.job_id, " (action ", u.id, ", ", status, ")");
  if (absl::StartsWith(u.reason, status)) {
    return absl::StrCat("job ", u.job_id, " (action ", u.id, ") ", u.reason);
  }
  return absl::StrCat("job ", u.job_id, " (action ", u.id, ") ", status, ": ", u.reason);
}

}  // namespace

absl::Time Scheduler::WindowStart(absl::Time now) const { return StartOfDay(now, tz_, -1); }

absl::Time Scheduler::WindowEnd(absl::Time now) const { return StartOfDay(now, tz_, 2); }

void Scheduler::SaveAction(ActionId id, Effects* fx) {
  if (const Action* a = book_.Find(id)) fx->batch.actions.push_back(*a);
}

void Scheduler::Replan(const std::vector<JobId>& changed, absl::Time now, Effects* fx) {
  // The changed jobs and everything downstream of them; all jobs when none is named.
  std::set<JobId> targets;
  if (changed.empty()) {
    for (JobId id : catalog_.JobIds()) targets.insert(id);
    rollover_.clear();  // planned here, all of them
  } else {
    // A save during a rollover links to its upstreams' new day: finish planning that first.
    while (!rollover_.empty()) RollOverSlice(now, fx);
    for (JobId id : changed) {
      for (JobId j : catalog_.WithDownstream(id)) targets.insert(j);
    }
  }
  PlanJobs(targets, now, fx);
}

void Scheduler::RollOverSlice(absl::Time now, Effects* fx) {
  // A few thousand actions: about ten milliseconds per Tick on a small machine.
  constexpr size_t kJobsPerSlice = 200;
  const absl::Time keep_from = WindowStart(now);
  std::set<JobId> slice;
  while (!rollover_.empty() && slice.size() < kJobsPerSlice) {
    const JobId job = rollover_.front();
    rollover_.pop_front();
    if (!catalog_.FindJob(job)) continue;  // deleted since midnight
    for (const Action* a : book_.OfJob(job)) {
      if (a->scheduled_time >= keep_from || !IsTerminal(a->status)) continue;
      if (a->status == ActionStatus::kSuccess) book_.MarkExternalSuccess(a->id);
      book_.Remove(a->id);
    }
    slice.insert(job);
  }
  if (!slice.empty()) PlanJobs(slice, now, fx);
}

void Scheduler::PlanJobs(const std::set<JobId>& targets, absl::Time now, Effects* fx) {
  PlanInput in;
  in.from = StartOfDay(now, tz_, 0);
  in.to = WindowEnd(now);
  in.default_tz = tz_;
  std::set<JobId> known;  // jobs whose existing actions the plan may link to
  for (JobId id : targets) {
    if (const Job* j = catalog_.FindJob(id)) {
      in.jobs.push_back(j);
      if (j->schedule.timezone.empty() && j->schedule.cron.empty()) {
        if (std::string zone = catalog_.ZoneOf(*j).name; !zone.empty()) {
          in.inherited_zones.emplace(id, std::move(zone));
        }
      }
      known.insert(id);
      for (const auto& d : j->schedule.depends_on) known.insert(d.job_id);
    }
  }
  for (JobId id : known) {
    auto& times = in.existing[id];
    for (const Action* a : book_.OfJob(id)) times.push_back(a->scheduled_time);
  }
  auto plan = PlanActions(in);
  if (!plan.ok()) {
    // Saves are validated, so this is a job stored before a rule existed: plan the others
    // one by one and leave it without actions rather than stall every job.
    std::vector<PlannedAction> each;
    for (const Job* j : in.jobs) {
      PlanInput one = in;
      one.jobs = {j};
      if (auto p = PlanActions(one); p.ok()) each.insert(each.end(), p->begin(), p->end());
    }
    plan = std::move(each);
  }
  window_end_ = in.to;

  // Pass 1: every planned action gets its id; new ones are built here and stored once.
  // ids[i] is the id of (*plan)[i]; id_of serves the upstream links of pass 2.
  absl::flat_hash_map<ActionKey, ActionId> id_of;
  id_of.reserve(plan->size());
  std::vector<ActionId> ids;
  ids.reserve(plan->size());
  std::vector<Action> created;
  created.reserve(plan->size());
  // Geometric growth: several saves of one tick replan into the same batch, and reserving the
  // exact size each time would copy the whole batch at every save.
  if (auto& batch = fx->batch.actions; batch.capacity() < batch.size() + plan->size()) {
    batch.reserve(std::max(2 * batch.capacity(), batch.size() + plan->size()));
  }
  for (const PlannedAction& p : *plan) {
    if (auto id = book_.FindByKey(p.key)) {
      ids.push_back(*id);
      id_of.emplace(p.key, *id);
      continue;
    }
    const Job* job = catalog_.FindJob(p.key.job);
    Action a;
    a.id = ++ids_.action;
    a.job_id = p.key.job;
    a.scheduled_time = p.key.time;
    a.job_version = job->version;
    a.created_at = a.updated_at = now;
    if (p.key.time <= now) {
      // A job created or enabled after this time does not run it (SEMANTICS.md §2).
      a.status = ActionStatus::kSkipped;
      a.reason = "skipped: the job was created or enabled after this time";
    }
    ids.push_back(a.id);
    id_of.emplace(p.key, a.id);
    created.push_back(std::move(a));
  }
  book_.Reserve(created.size());
  // Pass 2: links. Started and finished actions keep the links they ran with; skipped ones
  // keep theirs too, as a recovery upstream may still reach them.
  std::vector<ActionId> touched;
  touched.reserve(created.size());
  size_t next_created = 0;  // `plan` and `created` are both in (job, time) order
  for (size_t i = 0; i < plan->size(); ++i) {
    const PlannedAction& p = (*plan)[i];
    const ActionId id = ids[i];
    std::vector<ActionId> upstream;
    upstream.reserve(p.upstream.size());
    for (const ActionKey& k : p.upstream) {
      auto it = id_of.find(k);
      if (it != id_of.end()) {
        upstream.push_back(it->second);
      } else if (auto existing = book_.FindByKey(k)) {
        upstream.push_back(*existing);
      }
    }
    if (next_created < created.size() && created[next_created].id == id) {
      Action& a = created[next_created++];
      a.upstream = std::move(upstream);
      book_.Put(std::move(a));
      book_.SetBlocked(id, p.blocked_reason);
      touched.push_back(id);
      continue;
    }
    book_.SetBlocked(id, p.blocked_reason);
    const Action& current = *book_.Find(id);
    const bool relinkable = NotStarted(current.status) || current.status == ActionStatus::kSkipped;
    if (current.upstream == upstream || !relinkable) continue;
    Action relinked = current;
    relinked.upstream = std::move(upstream);
    relinked.updated_at = now;
    book_.Put(std::move(relinked));
    touched.push_back(id);
  }
  created.clear();
  created.shrink_to_fit();
  // Pass 3: future actions that no longer match are removed; history stays.
  for (JobId job : targets) {
    for (const Action* a : book_.OfJob(job)) {
      if (a->manual || a->scheduled_time < in.from || a->scheduled_time <= now) continue;
      if (!NotStarted(a->status) || id_of.contains(ActionKey{job, a->scheduled_time})) continue;
      fx->batch.deleted_actions.push_back(a->id);
      book_.Remove(a->id);
    }
  }
  for (ActionId id : touched) {
    SaveAction(id, fx);
    Evaluate(id, now, fx);
  }
}

void Scheduler::Evaluate(ActionId id, absl::Time now, Effects* fx) {
  Action* a = book_.FindMutable(id);
  if (!a || !NotStarted(a->status) || a->scheduled_time > now) return;
  if (wave_unmet_.count(id)) return;  // a super recovery starts it
  const Job* job = catalog_.FindJob(a->job_id);
  if (!job) return;
  std::string reason;
  if (!job->enabled) {
    reason = "waiting: the job is disabled";
  } else if (const std::string& blocked = book_.blocked(id); !blocked.empty()) {
    reason = blocked;
  } else if (book_.unmet(id) > 0) {
    std::vector<std::string> waits;
    for (ActionId up : a->upstream) {
      const Action* u = book_.Find(up);
      if (u && u->status == ActionStatus::kSuccess) continue;
      waits.push_back(u ? UpstreamState(*u) : absl::StrCat("action ", up));
    }
    reason = absl::StrCat("waiting for upstream ", absl::StrJoin(waits, ", "));
  } else {
    StartRun(id, Trigger::kSchedule, 1, "", now, now, nullptr, fx);
    return;
  }
  if (a->status != ActionStatus::kWaiting || a->reason != reason) {
    a->status = ActionStatus::kWaiting;
    a->reason = std::move(reason);
    a->updated_at = now;
    SaveAction(id, fx);
  }
}

RunId Scheduler::StartRun(ActionId action_id, Trigger trigger, int attempt,
                          const std::string& actor, absl::Time now, absl::Time not_before,
                          const DispatchOrder* retry_of, Effects* fx) {
  // The invariant of SEMANTICS.md §3: at most one live run per action, whatever asks.
  if (auto live = live_run_.find(action_id); live != live_run_.end()) return live->second;
  Action* a = book_.FindMutable(action_id);
  const Job* job = catalog_.FindJob(a->job_id);
  ActiveRun active;
  Run& run = active.run;
  run.id = ++ids_.run;
  run.job_id = a->job_id;
  run.action_id = action_id;
  run.trigger = trigger;
  run.status = RunStatus::kQueued;
  run.attempt = attempt;
  run.created_by = actor;
  run.queued_at = now;
  a->status = ActionStatus::kQueued;
  a->updated_at = now;
  if (retry_of) {
    // A retry runs the revision its action captured.
    run.job_version = retry_of->job_version;
    active.order = *retry_of;
    active.order.run_id = run.id;
    active.order.attempt = attempt;
    for (auto& [k, v] : active.order.env) {
      if (k == "HERA_RUN_ID") v = absl::StrCat(run.id);
      if (k == "HERA_ATTEMPT") v = absl::StrCat(attempt);
    }
  } else {
    a->job_version = job->version;
    a->reason.clear();
    run.job_version = job->version;
    active.order = MakeOrder(*job, run, *a);
  }
  active.action = *a;
  active.not_before = not_before;
  fx->batch.runs.push_back(run);
  SaveAction(action_id, fx);
  RefreshDownstreamReasons(action_id, now, fx);
  if (not_before > now) {
    delayed_.insert({not_before, run.id});
    AddActive(std::move(active));
  } else {
    Enqueue(std::move(active), job->priority);
  }
  return run.id;
}

void Scheduler::RefreshDownstreamReasons(ActionId id, absl::Time now, Effects* fx) {
  // A copy: Evaluate may start an action, which changes the book.
  const std::vector<ActionId> downstream = book_.downstream(id);
  for (ActionId down : downstream) {
    const Action* d = book_.Find(down);
    // Only those already waiting: a pending one's time has not come, and Evaluate writes its
    // reason when it does.
    if (d && d->status == ActionStatus::kWaiting) Evaluate(down, now, fx);
  }
}

void Scheduler::AfterRun(const ActiveRun& ended, absl::Time now, Effects* fx) {
  const Run& run = ended.run;
  Action* a = book_.FindMutable(run.action_id);
  if (!a) {
    // A manual or rerun run's own action follows its run.
    Action action = ended.action;
    action.status = run.status == RunStatus::kSuccess     ? ActionStatus::kSuccess
                    : run.status == RunStatus::kCancelled ? ActionStatus::kCancelled
                                                          : ActionStatus::kFailed;
    action.reason = run.message;
    action.updated_at = now;
    fx->batch.actions.push_back(action);
    RerunItemEnded(action.id, run.status, now, fx);
    return;
  }
  const Job* job = catalog_.FindJob(run.job_id);
  // A wave member's run that the wave adopted (AdvanceWave) moves the wave like its own.
  const bool moves_wave = run.trigger == Trigger::kSuperRecovery || wave_adopted_.count(a->id);
  if (run.status == RunStatus::kSuccess) {
    wave_adopted_.erase(a->id);
    a->reason.clear();
    a->updated_at = now;
    const ActionId id = a->id;
    std::vector<ActionId> ready;
    // A rerun of a window action counts like a recovery: what waits for it may go on (the
    // batch reran it with its downstream's counts raised, so they stay right).
    if (NotifiesDownstream(run.trigger) || run.trigger == Trigger::kRerun) {
      ready = book_.OnSuccess(id);
    } else {
      a->status = ActionStatus::kSuccess;
    }
    SaveAction(id, fx);
    if (moves_wave) AdvanceWave(id, now, fx);
    RerunItemEnded(id, run.status, now, fx);
    for (ActionId down : ready) {
      // A skipped action still runs when an upstream success reaches it after it was
      // skipped, as a recovery's does (SEMANTICS.md §2).
      Action* d = book_.FindMutable(down);
      if (d && d->status == ActionStatus::kSkipped) {
        d->status = ActionStatus::kWaiting;
      }
      Evaluate(down, now, fx);
    }
    return;
  }
  const bool can_retry = run.status != RunStatus::kCancelled && Retries(run.trigger) && job &&
                         run.attempt <= job->retry.count && !shutting_down_;
  if (can_retry) {
    const absl::Time at = now + absl::Seconds(job->retry.interval_s);
    // The retry runs what the failed attempt ran; without its order (lost in a crash with
    // its revision gone) it runs the job's current definition.
    const DispatchOrder* same = ended.order.run_id != 0 ? &ended.order : nullptr;
    StartRun(a->id, run.trigger, run.attempt + 1, run.created_by, now, at, same, fx);
    a = book_.FindMutable(run.action_id);
    a->reason = absl::StrCat("retry ", run.attempt, " of ", job->retry.count, " at ",
                             FormatIsoTime(at, tz_), " after: ", run.message);
    SaveAction(a->id, fx);
    RefreshDownstreamReasons(a->id, now, fx);
    return;
  }
  wave_adopted_.erase(a->id);
  a->status = run.status == RunStatus::kCancelled ? ActionStatus::kCancelled
                                                  : ActionStatus::kFailed;
  a->reason = run.attempt > 1 && a->status == ActionStatus::kFailed
                  ? absl::StrCat("failed after ", run.attempt, " attempts: ", run.message)
                  : run.message;
  a->updated_at = now;
  SaveAction(a->id, fx);
  RefreshDownstreamReasons(a->id, now, fx);
  if (moves_wave) AbandonWave(a->id, now, fx);
  RerunItemEnded(a->id, run.status, now, fx);
}

void Scheduler::Tick(absl::Time now, Effects* fx) {
  if (window_end_ == absl::InfinitePast()) {
    Replan({}, now, fx);
  } else if (now >= StartOfDay(window_end_, tz_, -1)) {
    // Midnight: today's actions were planned yesterday; the new tomorrow is a day away, so
    // it is planned in slices over the next ticks, upstream jobs before their dependents.
    const std::vector<JobId> order = catalog_.UpstreamFirst();
    rollover_.assign(order.begin(), order.end());
    window_end_ = WindowEnd(now);
  }
  if (!rollover_.empty()) RollOverSlice(now, fx);
  std::vector<ActionId> due = book_.TakeDue(now);
  if (!missed_applied_) {
    // Times that came while no master was up follow each job's missed-times policy.
    missed_applied_ = true;
    std::map<JobId, ActionId> latest;
    for (ActionId id : due) {
      const Action* a = book_.Find(id);
      if (a->scheduled_time < restored_at_) latest[a->job_id] = id;
    }
    std::vector<ActionId> run;
    for (ActionId id : due) {
      Action* a = book_.FindMutable(id);
      const Job* job = catalog_.FindJob(a->job_id);
      const bool missed = a->scheduled_time < restored_at_;
      if (missed && job && (job->missed == MissedPolicy::kSkip ||
                            (job->missed == MissedPolicy::kRunLatest &&
                             latest[a->job_id] != id))) {
        a->status = ActionStatus::kSkipped;
        a->reason = absl::StrCat("skipped: missed while hera was down (policy ",
                                 Name(job->missed), ")");
        a->updated_at = now;
        SaveAction(id, fx);
        continue;
      }
      run.push_back(id);
    }
    due = std::move(run);
  }
  for (ActionId id : due) Evaluate(id, now, fx);
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    const RunId id = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    const Job* job = catalog_.FindJob(it->second.run.job_id);
    queue_.insert(KeyOf(it->second, job ? job->priority : Priority::kMedium));
  }
}

std::optional<absl::Time> Scheduler::NextWakeTime() const {
  std::optional<absl::Time> next;
  auto consider = [&next](absl::Time t) { next = next ? std::min(*next, t) : t; };
  if (window_end_ != absl::InfinitePast()) consider(StartOfDay(window_end_, tz_, -1));
  if (!rollover_.empty()) consider(absl::InfinitePast());  // the next slice, right away
  if (auto due = book_.NextDue()) consider(*due);
  if (!delayed_.empty()) consider(delayed_.begin()->first);
  return next;
}

absl::StatusOr<RunTicket> Scheduler::RecoverAction(ActionId id, const std::string& actor,
                                                   absl::Time now, Effects* fx) {
  const Action* a = book_.Find(id);
  if (!a) {
    return absl::NotFoundError(absl::StrCat(
        "action ", id, " is not a scheduled action between yesterday and tomorrow"));
  }
  if (auto live = LiveRunOf(id)) {
    return absl::FailedPreconditionError(absl::StrCat("action ", id, " is ", Name(a->status),
                                                      " (run ", *live,
                                                      "); wait for it or cancel it"));
  }
  if (auto wave = wave_unmet_.find(id); wave != wave_unmet_.end()) {
    // Running it now would run it again when the wave reaches it: the wave runs it once.
    return absl::FailedPreconditionError(absl::StrCat(
        "action ", id, " is in the super recovery of action ", wave->second.root,
        ", which runs it once its upstreams in that wave succeed"));
  }
  if (shutting_down_) return absl::UnavailableError("hera is shutting down");
  book_.OnRerun(id);
  const RunId run = StartRun(id, Trigger::kRecovery, 1, actor, now, now, nullptr, fx);
  return RunTicket{run, id};
}

absl::StatusOr<std::vector<Job>> Scheduler::SetEnabled(JobId id, bool enabled, bool chain,
                                                       const std::string& actor,
                                                       absl::Time now, Effects* fx) {
  const Job* job = catalog_.FindJob(id);
  if (!job) return absl::NotFoundError(absl::StrCat("job ", id, " does not exist"));
  // The jobs that change, in an order that keeps every step valid: upstreams first when
  // enabling, downstreams first when disabling.
  std::vector<JobId> order;
  if (chain) {
    const JobGraph graph = JobGraph::FromJobs(catalog_.AllJobs());
    auto closure = enabled ? graph.UpstreamClosure(id) : graph.DownstreamClosure(id);
    std::sort(closure.begin(), closure.end(),
              [](const auto& x, const auto& y) { return x.depth > y.depth; });
    for (const auto& r : closure) {
      const Job* j = catalog_.FindJob(r.job);
      if (j && j->enabled != enabled) order.push_back(r.job);
    }
  }
  if (job->enabled != enabled) order.push_back(id);
  // Check the whole chain before changing anything.
  std::set<JobId> changing(order.begin(), order.end());
  for (JobId j : order) {
    const Job* current = catalog_.FindJob(j);
    if (enabled) {
      for (const auto& d : current->schedule.depends_on) {
        const Job* up = catalog_.FindJob(d.job_id);
        if (up && !up->enabled && !changing.count(up->id)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "job ", j, " depends on job ", up->id, " ('", up->name,
              "'), which is disabled; enable it first, or enable the whole upstream chain"));
        }
      }
    } else {
      for (JobId down : catalog_.Dependents(j)) {
        const Job* d = catalog_.FindJob(down);
        if (d && d->enabled && !changing.count(down)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "job ", down, " ('", d->name, "') is enabled and depends on job ", j,
              "; disable it first, or disable the whole downstream chain"));
        }
      }
    }
  }
  std::vector<Job> changed;
  for (JobId j : order) {
    auto saved = UpdateJob(j, {{"enabled", enabled}}, actor, now, fx);
    if (!saved.ok()) return saved.status();  // cannot happen: checked above
    changed.push_back(*saved);
  }
  if (changed.empty()) changed.push_back(*job);
  return changed;
}

absl::StatusOr<RunTicket> Scheduler::SuperRecoverAction(ActionId id, const std::string& actor,
                                                        absl::Time now, Effects* fx) {
  const Action* root = book_.Find(id);
  if (!root) {
    return absl::NotFoundError(absl::StrCat(
        "action ", id, " is not a scheduled action between yesterday and tomorrow"));
  }
  if (shutting_down_) return absl::UnavailableError("hera is shutting down");
  // The wave: every action linked downstream, transitively, whose time has come.
  std::vector<ActionId> wave{id};
  std::set<ActionId> in_wave{id};
  for (size_t i = 0; i < wave.size(); ++i) {
    for (ActionId down : book_.downstream(wave[i])) {
      const Action* d = book_.Find(down);
      if (d && d->scheduled_time <= now && in_wave.insert(down).second) wave.push_back(down);
    }
  }
  for (ActionId m : wave) {
    const Action* a = book_.Find(m);
    // Only the root must be idle: a member below it that is running now runs again once its
    // upstreams in the wave succeed (or, if that run is still going then, counts for the wave).
    const bool root_live = m == id && LiveRunOf(m).has_value();
    if (root_live || wave_unmet_.count(m)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "action ", m, " of job ", a->job_id, " is ", Name(a->status),
          wave_unmet_.count(m) ? " in another super recovery" : "",
          "; wait for it or cancel it before a super recovery"));
    }
  }
  for (ActionId m : wave) {
    int unmet = 0;
    for (ActionId up : book_.Find(m)->upstream) unmet += in_wave.count(up) ? 1 : 0;
    if (m != id) wave_unmet_[m] = WaveMember{unmet, id};
    if (m == id || LiveRunOf(m)) continue;  // a live member keeps its status until it ends
    book_.OnRerun(m);  // its downstream wait for it anew
    Action* a = book_.FindMutable(m);
    a->status = ActionStatus::kWaiting;
    a->reason = absl::StrCat("super recovery of action ", id, ": waiting for its upstreams");
    a->updated_at = now;
    SaveAction(m, fx);
  }
  book_.OnRerun(id);
  const RunId run = StartRun(id, Trigger::kSuperRecovery, 1, actor, now, now, nullptr, fx);
  return RunTicket{run, id};
}

void Scheduler::AdvanceWave(ActionId done, absl::Time now, Effects* fx) {
  for (ActionId down : book_.downstream(done)) {
    auto it = wave_unmet_.find(down);
    if (it == wave_unmet_.end() || --it->second.unmet > 0) continue;
    wave_unmet_.erase(it);
    if (LiveRunOf(down)) {
      // Started by something else meanwhile: that run is the member's run in the wave.
      wave_adopted_.insert(down);
      continue;
    }
    // A member that was running when the wave began, and has ended since, runs again: its
    // downstream wait for it anew.
    book_.OnRerun(down);
    if (book_.unmet(down) > 0) {
      // An upstream outside the wave has not succeeded: it waits like any action.
      if (Action* d = book_.FindMutable(down); d && !NotStarted(d->status)) {
        d->status = ActionStatus::kWaiting;
      }
      Evaluate(down, now, fx);
      continue;
    }
    StartRun(down, Trigger::kSuperRecovery, 1, "", now, now, nullptr, fx);
  }
}

void Scheduler::AbandonWave(ActionId failed, absl::Time now, Effects* fx) {
  std::vector<ActionId> stack(book_.downstream(failed).begin(), book_.downstream(failed).end());
  while (!stack.empty()) {
    const ActionId m = stack.back();
    stack.pop_back();
    if (!wave_unmet_.erase(m)) continue;
    Evaluate(m, now, fx);
    for (ActionId down : book_.downstream(m)) stack.push_back(down);
  }
}

absl::StatusOr<Action> Scheduler::ForceAction(ActionId id, ActionStatus status,
                                              const std::string& reason,
                                              const std::string& actor, absl::Time now,
                                              Effects* fx) {
  if (status != ActionStatus::kSuccess && status != ActionStatus::kFailed) {
    return absl::InvalidArgumentError("field 'status': an action can be forced to success or failed");
  }
  if (reason.empty()) return absl::InvalidArgumentError("field 'reason': is required");
  Action* a = book_.FindMutable(id);
  if (!a) {
    return absl::NotFoundError(absl::StrCat(
        "action ", id, " is not a scheduled action between yesterday and tomorrow"));
  }
  if (auto live = LiveRunOf(id)) {
    return absl::FailedPreconditionError(absl::StrCat("action ", id, " is ", Name(a->status),
                                                      " (run ", *live, "); cancel it first"));
  }
  wave_unmet_.erase(id);
  const std::string why =
      absl::StrCat("forced ", Name(status), " by ", actor, ": ", reason);
  if (status == ActionStatus::kSuccess) {
    // Like a scheduled success: downstream actions may run (Hera's 强制 left them stuck).
    const std::vector<ActionId> ready = book_.OnSuccess(id);
    a = book_.FindMutable(id);
    a->reason = why;
    a->updated_at = now;
    SaveAction(id, fx);
    for (ActionId down : ready) {
      Action* d = book_.FindMutable(down);
      if (d && d->status == ActionStatus::kSkipped) d->status = ActionStatus::kWaiting;
      Evaluate(down, now, fx);
    }
  } else {
    book_.OnRerun(id);  // downstream that counted it as done wait again
    a->status = ActionStatus::kFailed;
    a->reason = why;
    a->updated_at = now;
    SaveAction(id, fx);
    RefreshDownstreamReasons(id, now, fx);
  }
  return *book_.Find(id);
}

}  // namespace hera::core
