#include "core/scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/time_format.h"

namespace hera::core {
namespace {

// The dispatch queue a trigger belongs to; lower goes first (SEMANTICS.md §6).
int QueueRank(Trigger t) {
  switch (t) {
    case Trigger::kSchedule:
    case Trigger::kRecovery:
      return 0;
    case Trigger::kSuperRecovery:
      return 1;
    case Trigger::kManual:
    case Trigger::kApi:
      return 2;
    case Trigger::kDebug:
      return 3;
    case Trigger::kRerun:
      return 4;
  }
  return 5;
}

}  // namespace

Scheduler::QueueKey Scheduler::KeyOf(const ActiveRun& r, Priority priority) {
  return {QueueRank(r.run.trigger), -static_cast<int>(priority),
          ToMicros(r.action.scheduled_time), r.run.id};
}

DispatchOrder Scheduler::MakeOrder(const Job& job, const Run& run, const Action& action) const {
  DispatchOrder o;
  o.run_id = run.id;
  o.job_id = job.id;
  o.action_id = action.id;
  o.attempt = run.attempt;
  o.trigger = run.trigger;
  o.type = job.type;
  o.script = job.script;
  o.job_name = job.name;
  o.job_version = job.version;
  o.scheduled_time = action.scheduled_time;
  o.timeout_s = job.timeout_s;
  o.host_group = job.host_group;
  o.configs = job.configs;
  o.timezone = catalog_.ZoneNameOf(job);
  // An idempotency key for jobs that write data (SEMANTICS.md §7).
  o.env = {
      {"HERA_JOB_ID", absl::StrCat(job.id)},
      {"HERA_ACTION_ID", absl::StrCat(action.id)},
      {"HERA_RUN_ID", absl::StrCat(run.id)},
      {"HERA_ATTEMPT", absl::StrCat(run.attempt)},
      {"HERA_TRIGGER", std::string(Name(run.trigger))},
      {"HERA_SCHEDULED_TIME", FormatIsoTime(action.scheduled_time)},
  };
  return o;
}

void Scheduler::Restore(StoredState state, absl::Time now, Effects* fx) {
  catalog_.Load(std::move(state.groups), std::move(state.jobs));
  ids_ = state.max_ids;
  active_.clear();
  live_run_.clear();
  wave_unmet_.clear();
  wave_adopted_.clear();
  queue_.clear();
  busy_.clear();
  in_flight_ = 0;
  delayed_.clear();
  book_ = ActionBook();
  for (ActionId id : state.succeeded_upstream) book_.MarkExternalSuccess(id);
  reruns_.clear();
  rerun_of_action_.clear();
  rerun_adopted_.clear();
  rerun_actions_.clear();
  for (auto& a : state.rerun_actions) rerun_actions_[a.id] = std::move(a);
  reruns_in_flight_ = 0;
  backfills_.clear();
  backfill_of_action_.clear();
  for (auto& b : state.backfills) {
    const int64_t id = b.id;
    ActiveBackfill active = Activate(std::move(b));
    for (size_t i = 0; i < active.b.nodes.size(); ++i) {
      const BackfillNode& n = active.b.nodes[i];
      if (n.state != NodeState::kRunning || !n.action_id) continue;
      backfill_of_action_[n.action_id] = {id, static_cast<int>(i)};
      ++reruns_in_flight_;
    }
    backfills_[id] = std::move(active);
  }
  for (auto& batch : state.reruns) {
    for (size_t i = 0; i < batch.next && i < batch.items.size(); ++i) {
      rerun_of_action_[batch.items[i].action_id] = batch.id;
    }
    reruns_in_flight_ += static_cast<int>(batch.next) - static_cast<int>(batch.done + batch.failed);
    reruns_[batch.id] = std::move(batch);
  }
  std::map<ActionId, Action> standalone;  // actions of manual runs: not scheduled
  book_.Reserve(state.unfinished_actions.size());
  for (auto& a : state.unfinished_actions) {
    if (a.job_id && catalog_.FindJob(a.job_id) && !a.manual) {
      book_.Put(std::move(a));
    } else {
      standalone[a.id] = std::move(a);
    }
  }
  for (auto& run : state.unfinished_runs) {
    const Job* job = catalog_.FindJob(run.job_id);
    const Action* in_book = book_.Find(run.action_id);
    auto snapshot = standalone.find(run.action_id);
    auto rev = state.revisions.find({run.job_id, run.job_version});
    const bool has_action = in_book || snapshot != standalone.end();
    if (!run.worker.empty() && job && has_action && rev != state.revisions.end()) {
      // Handed to a worker, which may still hold it: it stays there until that worker comes
      // back (ReattachWorker) or is given up (WorkerLost).
      ActiveRun active;
      active.run = std::move(run);
      active.action = in_book ? *in_book : snapshot->second;
      active.order = MakeOrder(rev->second, active.run, active.action);
      active.dispatched = true;
      ++busy_[active.run.worker];
      ++in_flight_;
      const RunId id = active.run.id;
      AddActive(std::move(active));
      fx->opened_logs.push_back(id);  // its worker re-sends what the log is missing
      continue;
    }
    if (run.status == RunStatus::kQueued && job && has_action && rev != state.revisions.end()) {
      ActiveRun active;
      active.run = std::move(run);
      active.action = in_book ? *in_book : snapshot->second;
      active.order = MakeOrder(rev->second, active.run, active.action);
      Enqueue(std::move(active), rev->second.priority);
      continue;
    }
    // Its process died with the previous master/worker (or its definition is gone).
    ActiveRun ended;
    ended.run = std::move(run);
    ended.run.status = ended.run.status == RunStatus::kQueued ? RunStatus::kFailed
                                                              : RunStatus::kLost;
    ended.run.ended_at = now;
    ended.run.message = ended.run.status == RunStatus::kLost
                            ? "interrupted: hera stopped while this run was running"
                            : "could not be requeued after a restart: its job or action is gone";
    if (has_action) ended.action = in_book ? *in_book : snapshot->second;
    if (has_action && job && rev != state.revisions.end()) {
      ended.order = MakeOrder(rev->second, ended.run, ended.action);
    }
    fx->batch.runs.push_back(ended.run);
    fx->closed_logs.push_back(ended.run.id);
    if (has_action) AfterRun(ended, now, fx);
  }
  // Manual actions left queued or running without a live run ended with the lost run.
  std::set<ActionId> live;
  for (const auto& [rid, r] : active_) live.insert(r.run.action_id);
  for (auto& [id, action] : standalone) {
    if (!live.count(id) && !IsTerminal(action.status)) {
      action.status = ActionStatus::kFailed;
      action.reason = "interrupted: hera stopped while it was running";
      action.updated_at = now;
      fx->batch.actions.push_back(action);
    }
  }
  restored_at_ = now;
  missed_applied_ = false;
  Replan({}, now, fx);
  PumpReruns(now, fx);
  PumpBackfills(now, fx);
}

absl::StatusOr<Group> Scheduler::CreateGroup(const nlohmann::json& body, const std::string& actor,
                                             absl::Time now, Effects* fx) {
  auto group = catalog_.PrepareNewGroup(ids_.group + 1, body, actor, now);
  if (!group.ok()) return group.status();
  if (group_check_) HERA_RETURN_IF_ERROR(group_check_(*group, catalog_, now));
  ids_.group = group->id;
  catalog_.PutGroup(*group);
  fx->batch.groups.push_back(*group);
  return group;
}

absl::StatusOr<Group> Scheduler::UpdateGroup(GroupId id, const nlohmann::json& body,
                                             absl::Time now, Effects* fx) {
  auto group = catalog_.PrepareGroupUpdate(id, body, now);
  if (!group.ok()) return group.status();
  if (group_check_ && group->configs != catalog_.FindGroup(id)->configs) {
    HERA_RETURN_IF_ERROR(group_check_(*group, catalog_, now));
  }
  catalog_.PutGroup(*group);
  fx->batch.groups.push_back(*group);
  return group;
}

absl::Status Scheduler::DeleteGroup(GroupId id, Effects* fx) {
  if (auto st = catalog_.CheckGroupDeletable(id); !st.ok()) return st;
  catalog_.RemoveGroup(id);
  fx->batch.deleted_groups.push_back(id);
  return absl::OkStatus();
}

absl::Status Scheduler::CheckJobSave(const Job& job, const Job* previous, absl::Time now,
                                     const JobSaveOptions& options, Effects* fx) {
  // Only what changed is checked: enabling or disabling a job stored before a check existed
  // always works.
  const bool new_group = !job.host_group.empty() && !host_groups_.count(job.host_group) &&
                         (!previous || previous->host_group != job.host_group);
  if (new_group && !options.force_host_group) {
    std::vector<std::string> known(host_groups_.begin(), host_groups_.end());
    return absl::FailedPreconditionError(absl::StrCat(
        "field 'host_group': no worker serves host group '", job.host_group, "' (known: ",
        known.empty() ? "none" : absl::StrJoin(known, ", "),
        "); check the name, or save with \"force\": true if a worker with it is coming"));
  }
  const bool renders_differently =
      !previous || previous->script != job.script || previous->configs != job.configs ||
      previous->group_id != job.group_id || previous->type != job.type ||
      previous->host_group != job.host_group || previous->schedule.timezone != job.schedule.timezone;
  if (job_check_ && renders_differently) HERA_RETURN_IF_ERROR(job_check_(job, catalog_, now));
  if (new_group) {
    host_groups_.insert(job.host_group);
    fx->batch.host_groups.push_back(job.host_group);
    if (options.warnings) {
      options.warnings->push_back(absl::StrCat(
          "host group '", job.host_group, "' is served by no worker yet: the job's runs wait "
          "until a worker registers with it"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Job> Scheduler::CreateJob(const nlohmann::json& body, const std::string& actor,
                                         absl::Time now, Effects* fx,
                                         const JobSaveOptions& options) {
  auto job = catalog_.PrepareNewJob(ids_.job + 1, body, actor, now);
  if (!job.ok()) return job.status();
  HERA_RETURN_IF_ERROR(CheckJobSave(*job, nullptr, now, options, fx));
  ids_.job = job->id;
  catalog_.PutJob(*job);
  fx->batch.jobs.push_back(*job);
  fx->batch.revisions.push_back(MakeRevision(*job, nullptr, actor, now));
  Replan({job->id}, now, fx);
  return job;
}

absl::StatusOr<Job> Scheduler::UpdateJob(JobId id, const nlohmann::json& body,
                                         const std::string& actor, absl::Time now,
                                         Effects* fx, const JobSaveOptions& options) {
  auto job = catalog_.PrepareJobUpdate(id, body, now);
  if (!job.ok()) return job.status();
  const Job previous = *catalog_.FindJob(id);
  HERA_RETURN_IF_ERROR(CheckJobSave(*job, &previous, now, options, fx));
  catalog_.PutJob(*job);
  fx->batch.jobs.push_back(*job);
  fx->batch.revisions.push_back(MakeRevision(*job, &previous, actor, now));
  // Saved, enabled or disabled: its actions are replanned at once (Hera waited an hour).
  Replan({id}, now, fx);
  return job;
}

absl::Status Scheduler::DeleteJob(JobId id, Effects* fx) {
  for (const auto& [rid, r] : active_) {
    if (r.run.job_id == id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", id, " has run ", rid, " ", Name(r.run.status), "; cancel it first"));
    }
  }
  if (auto st = catalog_.CheckJobDeletable(id); !st.ok()) return st;
  std::vector<ActionId> actions;
  for (const Action* a : book_.OfJob(id)) actions.push_back(a->id);
  for (ActionId a : actions) book_.Remove(a);
  catalog_.RemoveJob(id);
  fx->batch.deleted_jobs.push_back(id);
  return absl::OkStatus();
}

absl::StatusOr<RunTicket> Scheduler::RunJob(JobId id, Trigger trigger, const std::string& actor,
                                            absl::Time now, Effects* fx) {
  const Job* job = catalog_.FindJob(id);
  if (!job) return absl::NotFoundError(absl::StrCat("job ", id, " does not exist"));
  if (shutting_down_) return absl::UnavailableError("hera is shutting down");
  ActiveRun active;
  Action& action = active.action;
  action.id = ++ids_.action;
  action.job_id = id;
  action.scheduled_time = now;
  action.status = ActionStatus::kQueued;
  action.job_version = job->version;
  action.manual = true;
  action.created_at = action.updated_at = now;
  Run& run = active.run;
  run.id = ++ids_.run;
  run.job_id = id;
  run.action_id = action.id;
  run.trigger = trigger;
  run.status = RunStatus::kQueued;
  run.attempt = 1;
  run.job_version = job->version;
  run.created_by = actor;
  run.queued_at = now;
  active.order = MakeOrder(*job, run, action);
  fx->batch.actions.push_back(action);
  fx->batch.runs.push_back(run);
  RunTicket ticket{run.id, action.id};
  Enqueue(std::move(active), job->priority);
  return ticket;
}

void Scheduler::Enqueue(ActiveRun active, Priority priority) {
  queue_.insert(KeyOf(active, priority));
  AddActive(std::move(active));
}

void Scheduler::AddActive(ActiveRun active) {
  const RunId id = active.run.id;
  live_run_[active.run.action_id] = id;
  active_[id] = std::move(active);
}

Scheduler::ActiveRun Scheduler::TakeActive(std::map<RunId, ActiveRun>::iterator it) {
  ActiveRun taken = std::move(it->second);
  active_.erase(it);
  if (auto live = live_run_.find(taken.run.action_id);
      live != live_run_.end() && live->second == taken.run.id) {
    live_run_.erase(live);
  }
  return taken;
}

std::optional<RunId> Scheduler::LiveRunOf(ActionId id) const {
  auto it = live_run_.find(id);
  if (it == live_run_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<Run> Scheduler::CancelRun(RunId id, const std::string& actor, absl::Time now,
                                         Effects* fx) {
  auto it = active_.find(id);
  if (it == active_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", id, " is not queued or running; there is nothing to cancel"));
  }
  ActiveRun& active = it->second;
  if (!active.dispatched) {
    active.cancelled_by = actor;
    const Job* job = catalog_.FindJob(active.run.job_id);
    queue_.erase(KeyOf(active, job ? job->priority : Priority::kMedium));
    delayed_.erase({active.not_before, id});
    Finish(active, RunStatus::kCancelled, absl::StrCat("cancelled by ", actor, " while queued"),
           now, fx);
    const ActiveRun ended = TakeActive(it);
    AfterRun(ended, now, fx);
    return ended.run;
  }
  if (active.cancelled_by.empty()) {
    active.cancelled_by = actor;
    fx->cancels.emplace_back(active.run.worker, id);
  }
  return active.run;
}

bool Scheduler::JobHasRunningRun(JobId job) const {
  for (const auto& [id, r] : active_) {
    if (r.run.job_id == job && r.dispatched) return true;
  }
  return false;
}

void Scheduler::OnRunStarted(RunId id, const std::string& worker, absl::Time at, Effects* fx) {
  auto it = active_.find(id);
  if (it == active_.end() || !it->second.dispatched || it->second.run.worker != worker) return;
  ActiveRun& active = it->second;
  if (active.run.status == RunStatus::kRunning) return;
  active.run.status = RunStatus::kRunning;
  active.run.started_at = at;
  active.action.status = ActionStatus::kRunning;
  active.action.updated_at = at;
  fx->batch.runs.push_back(active.run);
  if (Action* a = book_.FindMutable(active.run.action_id)) {
    // The book's copy is the one downstream reasons read: it is running too.
    a->status = ActionStatus::kRunning;
    a->updated_at = at;
    SaveAction(a->id, fx);
    RefreshDownstreamReasons(a->id, at, fx);
  } else {
    fx->batch.actions.push_back(active.action);
  }
}

void Scheduler::OnRunFinished(const RunResult& result, absl::Time now, Effects* fx) {
  auto it = active_.find(result.run_id);
  if (it == active_.end() || !it->second.dispatched) return;
  ActiveRun& active = it->second;
  RunStatus status;
  std::string message;
  if (!result.lost.empty() && active.cancelled_by.empty()) {
    status = RunStatus::kLost;
    message = absl::StrCat("lost: ", result.lost);
  } else if (!result.error.empty()) {
    status = RunStatus::kFailed;
    message = absl::StrCat("could not start: ", result.error);
  } else if (result.cancelled || !active.cancelled_by.empty()) {
    status = RunStatus::kCancelled;
    message = active.cancelled_by.empty() ? "cancelled: hera was shut down"
                                          : absl::StrCat("cancelled by ", active.cancelled_by);
  } else if (result.timed_out) {
    status = RunStatus::kFailed;
    message = absl::StrCat("timeout: killed after ", active.order.timeout_s, " s");
  } else if (result.exit_code && *result.exit_code == 0) {
    status = RunStatus::kSuccess;
  } else if (result.exit_code) {
    status = RunStatus::kFailed;
    message = absl::StrCat("exit code ", *result.exit_code);
  } else {
    status = RunStatus::kFailed;
    message = absl::StrCat("killed by signal ", result.signal.value_or(0));
  }
  active.run.exit_code = result.exit_code;
  active.run.signal = result.signal;
  if (active.run.started_at && result.ended_at >= *active.run.started_at) {
    const absl::Duration took = result.ended_at - *active.run.started_at;
    auto [typical, first] = typical_run_.try_emplace(active.run.worker, took);
    if (!first) typical->second = (typical->second * 7 + took) / 8;
  }
  --busy_[active.run.worker];
  --in_flight_;
  Finish(active, status, std::move(message), result.ended_at, fx);
  const ActiveRun ended = TakeActive(it);
  AfterRun(ended, std::max(now, result.ended_at), fx);
}

void Scheduler::Finish(ActiveRun& active, RunStatus status, std::string message, absl::Time at,
                       Effects* fx) {
  active.run.status = status;
  active.run.message = std::move(message);
  active.run.ended_at = at;
  fx->batch.runs.push_back(active.run);
  fx->closed_logs.push_back(active.run.id);
}

const Run* Scheduler::FindActiveRun(RunId id) const {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : &it->second.run;
}

}  // namespace hera::core
