// Backfills (补数据) in the Scheduler: a date range run again through the DAG, each action after
// its upstreams inside the backfill, at most `parallelism` at once, as reruns. The plan is
// core/backfill_plan.h; runs start through StartReplay like rerun items.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time_format.h"
#include "core/scheduler.h"

namespace hera::core {
namespace {

bool Satisfied(NodeState s) { return s == NodeState::kSuccess || s == NodeState::kSkipped; }

// Backfill `id` as `fx` last wrote it (one that ended in this step), nodes from that step.
Backfill LastWritten(const Effects& fx, int64_t id) {
  Backfill out;
  for (auto b = fx.batch.backfills.rbegin(); b != fx.batch.backfills.rend(); ++b) {
    if (b->id == id) {
      out = *b;
      break;
    }
  }
  return out;
}

}  // namespace

Scheduler::ActiveBackfill Scheduler::Activate(Backfill b) {
  ActiveBackfill active;
  const size_t n = b.nodes.size();
  active.unmet.assign(n, 0);
  active.downstream.assign(n, {});
  for (size_t i = 0; i < n; ++i) {
    for (int up : b.nodes[i].upstream) {
      if (up < 0 || static_cast<size_t>(up) >= n) continue;
      active.downstream[up].push_back(static_cast<int>(i));
      if (!Satisfied(b.nodes[up].state)) ++active.unmet[i];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const BackfillNode& node = b.nodes[i];
    if (node.state == NodeState::kRunning) ++active.running;
    if (node.state == NodeState::kPending && active.unmet[i] == 0) {
      active.ready.insert({node.time, static_cast<int>(i)});
    }
  }
  active.b = std::move(b);
  return active;
}

void Scheduler::SaveBackfill(const ActiveBackfill& active, int index, Effects* fx) {
  Backfill header = active.b;
  header.nodes.clear();
  fx->batch.backfills.push_back(std::move(header));
  if (index >= 0) {
    fx->batch.backfill_nodes.push_back({active.b.id, index, active.b.nodes[index]});
  }
}

absl::StatusOr<Backfill> Scheduler::CreateBackfill(const BackfillRequest& request,
                                                   const BackfillOptions& options,
                                                   const std::string& actor, absl::Time now,
                                                   Effects* fx,
                                                   const std::vector<Action>& known) {
  if (options.parallelism < 1 || options.parallelism > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("field 'parallelism': ", options.parallelism, " is outside 1-32"));
  }
  if (shutting_down_) return absl::UnavailableError("hera is shutting down");
  auto nodes = PlanBackfill(catalog_, request, known, tz_);
  if (!nodes.ok()) return nodes.status();
  std::map<ActionId, const Action*> stored;
  for (const Action& a : known) stored.emplace(a.id, &a);
  // One (job, time) is in one running backfill at a time.
  std::map<std::pair<JobId, absl::Time>, int64_t> taken;
  for (const auto& [id, other] : backfills_) {
    if (other.b.status != BackfillStatus::kRunning) continue;
    for (const BackfillNode& n : other.b.nodes) taken.emplace(std::make_pair(n.job_id, n.time), id);
  }
  Backfill b;
  b.job_ids = request.job_ids;
  b.from = request.from;
  b.to = request.to;
  b.downstream = request.downstream;
  b.parallelism = options.parallelism;
  b.newest_first = options.newest_first;
  b.skip_succeeded = options.skip_succeeded;
  b.created_by = actor;
  b.created_at = b.updated_at = now;
  b.nodes = *std::move(nodes);
  for (BackfillNode& n : b.nodes) {
    if (auto it = taken.find({n.job_id, n.time}); it != taken.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job ", n.job_id, " at ", FormatIsoTime(n.time, tz_), " is in backfill ", it->second,
          ", which is still running; stop it or wait for it"));
    }
    if (auto in_book = book_.FindByKey({n.job_id, n.time})) n.action_id = *in_book;
    if (!options.skip_succeeded || !n.action_id) continue;
    const Action* a = book_.Find(n.action_id);
    if (!a) {
      auto it = stored.find(n.action_id);
      a = it == stored.end() ? nullptr : it->second;
    }
    if (a && a->status == ActionStatus::kSuccess) n.state = NodeState::kSkipped;
  }
  if (options.dry_run) return b;
  b.id = ++ids_.backfill;
  for (const BackfillNode& n : b.nodes) {
    if (n.action_id && !book_.Find(n.action_id)) {
      if (auto it = stored.find(n.action_id); it != stored.end()) {
        rerun_actions_[n.action_id] = *it->second;
      }
    }
  }
  const int64_t id = b.id;
  ActiveBackfill& active = backfills_[id] = Activate(std::move(b));
  SaveBackfill(active, -1, fx);
  for (size_t i = 0; i < active.b.nodes.size(); ++i) {
    fx->batch.backfill_nodes.push_back({id, static_cast<int>(i), active.b.nodes[i]});
  }
  PumpBackfills(now, fx);
  auto it = backfills_.find(id);
  if (it != backfills_.end()) return it->second.b;
  // Everything was skipped: it ended at once.
  return LastWritten(*fx, id);
}

void Scheduler::PumpBackfills(absl::Time now, Effects* fx) {
  std::vector<int64_t> finished;
  for (auto& [id, active] : backfills_) {
    Backfill& b = active.b;
    while (b.status == BackfillStatus::kRunning && !active.ready.empty() &&
           active.running < b.parallelism && reruns_in_flight_ < kMaxRerunsInFlight) {
      auto next = b.newest_first ? std::prev(active.ready.end()) : active.ready.begin();
      const int index = next->second;
      active.ready.erase(next);
      BackfillNode& node = b.nodes[index];
      const Job* job = catalog_.FindJob(node.job_id);
      if (!job) {
        node.state = NodeState::kFailed;  // deleted since: nothing to run
        SaveBackfill(active, index, fx);
        continue;
      }
      ++reruns_in_flight_;
      ++active.running;
      bool adopted = false;
      node.action_id = StartReplay(node.action_id, *job, node.time, b.created_by,
                                   absl::StrCat("backfill ", id), now, fx, &adopted);
      node.state = NodeState::kRunning;
      backfill_of_action_[node.action_id] = {id, index};
      if (adopted) rerun_adopted_.insert(node.action_id);
      b.updated_at = now;
      SaveBackfill(active, index, fx);
    }
    if (active.running == 0 && (b.status != BackfillStatus::kRunning || active.ready.empty())) {
      finished.push_back(id);
    }
  }
  for (int64_t id : finished) {
    ActiveBackfill& active = backfills_.at(id);
    if (active.b.status == BackfillStatus::kRunning) active.b.status = BackfillStatus::kDone;
    active.b.updated_at = now;
    SaveBackfill(active, -1, fx);
    backfills_.erase(id);
  }
}

void Scheduler::BackfillNodeEnded(int64_t id, int index, RunStatus status, absl::Time now,
                                  Effects* fx) {
  --reruns_in_flight_;
  auto it = backfills_.find(id);
  if (it == backfills_.end()) return;
  ActiveBackfill& active = it->second;
  BackfillNode& node = active.b.nodes[index];
  --active.running;
  if (status == RunStatus::kSuccess) {
    node.state = NodeState::kSuccess;
    for (int down : active.downstream[index]) {
      if (--active.unmet[down] == 0 && active.b.nodes[down].state == NodeState::kPending) {
        active.ready.insert({active.b.nodes[down].time, down});
      }
    }
  } else if (status == RunStatus::kCancelled && active.b.status == BackfillStatus::kStopped) {
    node.state = NodeState::kPending;  // cancelled by the stop: it runs on resume
    if (active.unmet[index] == 0) active.ready.insert({node.time, index});
  } else {
    node.state = NodeState::kFailed;  // what is below it waits (rerun the failed ones)
  }
  active.b.updated_at = now;
  SaveBackfill(active, index, fx);
  PumpBackfills(now, fx);
  PumpReruns(now, fx);
}

absl::StatusOr<Backfill> Scheduler::StopBackfill(int64_t id, absl::Time now, Effects* fx) {
  auto it = backfills_.find(id);
  if (it == backfills_.end() || it->second.b.status != BackfillStatus::kRunning) {
    return absl::FailedPreconditionError(absl::StrCat("backfill ", id, " is not running"));
  }
  it->second.b.status = BackfillStatus::kStopped;
  it->second.b.updated_at = now;
  SaveBackfill(it->second, -1, fx);
  std::vector<RunId> queued;
  for (const auto& [rid, r] : active_) {
    auto owner = backfill_of_action_.find(r.run.action_id);
    if (owner != backfill_of_action_.end() && owner->second.first == id && !r.dispatched &&
        !rerun_adopted_.count(r.run.action_id)) {
      queued.push_back(rid);
    }
  }
  for (RunId rid : queued) (void)CancelRun(rid, "a stopped backfill", now, fx);
  if (auto still = backfills_.find(id); still != backfills_.end()) {
    const Backfill out = still->second.b;
    PumpBackfills(now, fx);  // ends it if nothing runs
    return out;
  }
  return LastWritten(*fx, id);
}

absl::StatusOr<Backfill> Scheduler::ResumeBackfill(const Backfill& stored, bool retry_failed,
                                                   absl::Time now, Effects* fx,
                                                   const std::vector<Action>& known) {
  if (shutting_down_) return absl::UnavailableError("hera is shutting down");
  auto it = backfills_.find(stored.id);
  if (it == backfills_.end()) {
    if (stored.status == BackfillStatus::kDone && !retry_failed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "backfill ", stored.id, " is done; rerun-failed runs its failed actions again"));
    }
    if (stored.status == BackfillStatus::kRunning) {
      return absl::FailedPreconditionError(absl::StrCat("backfill ", stored.id, " is running"));
    }
    for (const Action& a : known) {
      if (!book_.Find(a.id)) rerun_actions_[a.id] = a;
    }
    Backfill b = stored;
    for (BackfillNode& n : b.nodes) {
      if (n.state == NodeState::kRunning) n.state = NodeState::kPending;  // ended while away
    }
    it = backfills_.emplace(stored.id, Activate(std::move(b))).first;
  } else if (it->second.b.status == BackfillStatus::kRunning && !retry_failed) {
    return absl::FailedPreconditionError(absl::StrCat("backfill ", stored.id, " is running"));
  }
  ActiveBackfill& active = it->second;
  if (retry_failed) {
    bool any = false;
    for (BackfillNode& n : active.b.nodes) {
      if (n.state == NodeState::kFailed) {
        n.state = NodeState::kPending;
        any = true;
      }
    }
    if (!any && active.b.status != BackfillStatus::kStopped) {
      if (active.running == 0) backfills_.erase(it);
      return absl::FailedPreconditionError(
          absl::StrCat("backfill ", stored.id, " has no failed action to rerun"));
    }
    Backfill b = std::move(active.b);
    const int running = active.running;
    active = Activate(std::move(b));
    active.running = running;
    for (size_t i = 0; i < active.b.nodes.size(); ++i) {
      if (active.b.nodes[i].state == NodeState::kPending) {
        fx->batch.backfill_nodes.push_back({stored.id, static_cast<int>(i), active.b.nodes[i]});
      }
    }
  }
  active.b.status = BackfillStatus::kRunning;
  active.b.updated_at = now;
  SaveBackfill(active, -1, fx);
  const int64_t id = stored.id;
  PumpBackfills(now, fx);
  if (auto still = backfills_.find(id); still != backfills_.end()) return still->second.b;
  return LastWritten(*fx, id);
}

}  // namespace hera::core
