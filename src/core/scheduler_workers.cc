// The scheduler's side of workers (SEMANTICS.md §6): which worker takes a queued run, and what
// happens to a worker's runs when it drains, disappears or comes back.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/scheduler.h"

namespace hera::core {

void Scheduler::AddWorker(const WorkerSlots& worker) { workers_[worker.id] = worker; }

void Scheduler::SetWorkerConnected(const std::string& id, bool connected) {
  auto it = workers_.find(id);
  if (it != workers_.end()) it->second.connected = connected;
}

absl::Status Scheduler::SetWorkerDraining(const std::string& id, bool draining) {
  auto it = workers_.find(id);
  if (it == workers_.end()) return absl::NotFoundError(absl::StrCat("no worker '", id, "'"));
  it->second.draining = draining;
  return absl::OkStatus();
}

void Scheduler::UpdateWorkerMetrics(const std::string& id, const WorkerMetrics& metrics) {
  auto it = workers_.find(id);
  if (it != workers_.end()) it->second.metrics = metrics;
}

namespace {
// Runs shorter than this on average let a worker hold twice its prefetch (see typical_run_).
constexpr absl::Duration kShortRun = absl::Seconds(1);
}  // namespace

const WorkerSlots* Scheduler::PickWorker(const std::string& host_group, std::string* why) {
  const WorkerSlots* best = nullptr;
  double best_load = 0;
  int in_group = 0, live = 0, full = 0, hot = 0;
  const size_t n = workers_.size();
  auto it = workers_.begin();
  // Round-robin starts the search one worker further each time; least-loaded scans them all.
  if (limits_.round_robin && n > 0) std::advance(it, round_robin_ % n);
  for (size_t i = 0; i < n; ++i, ++it) {
    if (it == workers_.end()) it = workers_.begin();
    const WorkerSlots& w = it->second;
    if (!host_group.empty() &&
        std::find(w.host_groups.begin(), w.host_groups.end(), host_group) == w.host_groups.end()) {
      continue;
    }
    ++in_group;
    if (!w.connected || w.draining) continue;
    ++live;
    const int busy = busy_[w.id];
    auto typical = typical_run_.find(w.id);
    const bool short_runs = typical != typical_run_.end() && typical->second < kShortRun;
    if (busy >= w.slots + w.prefetch * (short_runs ? 2 : 1)) {
      ++full;
      continue;
    }
    if (w.metrics) {
      const WorkerMetrics& m = *w.metrics;
      const bool memory_high =
          m.memory_total_bytes > 0 &&
          static_cast<double>(m.memory_used_bytes) >
              limits_.max_memory_fraction * static_cast<double>(m.memory_total_bytes);
      if (memory_high || m.load_per_core > limits_.max_load_per_core) {
        ++hot;
        continue;
      }
    }
    const double load = static_cast<double>(busy) / std::max(1, w.slots);
    if (limits_.round_robin) {
      round_robin_ = (round_robin_ + i + 1) % n;
      return &w;
    }
    if (!best || load < best_load) {
      best = &w;
      best_load = load;
    }
  }
  if (best) return best;
  const std::string group = host_group.empty() ? "" : absl::StrCat(" in host group ", host_group);
  if (in_group == 0) {
    *why = absl::StrCat("no worker", group, " has registered");
  } else if (live == 0) {
    *why = absl::StrCat("no live worker", group, " (disconnected or draining)");
  } else if (hot > 0 && full + hot == live) {
    *why = full == 0 ? absl::StrCat("every worker", group, " is over its memory or load limit")
                     : absl::StrCat("every worker", group, " is full or over its memory or load limit");
  } else {
    why->clear();  // every slot is taken: the run simply waits its turn
  }
  return nullptr;
}

void Scheduler::Dispatch(absl::Time now, Effects* fx) {
  if (shutting_down_ || queue_.empty()) return;
  // Host groups found without a free worker in this pass: their other runs wait too, with the
  // same reason, without searching again.
  std::map<std::string, std::string> blocked;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (limits_.max_in_flight > 0 && in_flight_ >= static_cast<size_t>(limits_.max_in_flight)) {
      return;
    }
    const RunId id = std::get<3>(*it);
    ActiveRun& active = active_.at(id);
    const std::string& group = active.order.host_group;
    if (!group.empty() && !host_groups_.count(group)) {
      // A typo in the job, not a busy cluster: say so at once instead of waiting forever.
      it = queue_.erase(it);
      Finish(active, RunStatus::kFailed,
             absl::StrCat("host group '", group, "' does not exist"), now, fx);
      const ActiveRun ended = TakeActive(active_.find(id));
      AfterRun(ended, now, fx);
      continue;
    }
    const Job* job = catalog_.FindJob(active.run.job_id);
    if (job && !job->allow_concurrent && JobHasRunningRun(job->id)) {
      ++it;  // waits until the job's running run ends
      continue;
    }
    std::string why;
    auto known = blocked.find(group);
    const WorkerSlots* worker = nullptr;
    if (known != blocked.end()) {
      why = known->second;
    } else {
      worker = PickWorker(group, &why);
      if (!worker) blocked.emplace(group, why);
    }
    if (!worker) {
      if (why != active.wait_reason) {
        active.wait_reason = why;
        active.run.message = why;
        fx->batch.runs.push_back(active.run);
      }
      // Without a host group every run competes for the same workers: the rest wait too.
      if (group.empty() && why.empty()) return;
      ++it;
      continue;
    }
    it = queue_.erase(it);
    active.dispatched = true;
    active.wait_reason.clear();
    active.run.message.clear();
    active.run.worker = worker->id;
    ++busy_[worker->id];
    ++in_flight_;
    fx->batch.runs.push_back(active.run);
    fx->dispatches.emplace_back(worker->id, active.order);
    fx->opened_logs.push_back(id);
  }
}

void Scheduler::Reclaim(RunId id, const std::string& reason, absl::Time now, Effects* fx,
                        absl::Time last_seen) {
  auto it = active_.find(id);
  if (it == active_.end() || !it->second.dispatched) return;
  ActiveRun& active = it->second;
  --busy_[active.run.worker];
  --in_flight_;
  active.dispatched = false;
  if (active.run.status == RunStatus::kQueued) {
    // It never started: it goes back to the queue under the same run id.
    active.run.worker.clear();
    active.run.message = reason;
    fx->batch.runs.push_back(active.run);
    const Job* job = catalog_.FindJob(active.run.job_id);
    queue_.insert(KeyOf(active, job ? job->priority : Priority::kMedium));
    return;
  }
  // Its end is the last sign of life of its worker: nothing about it was known after that.
  absl::Time ended = std::min(now, last_seen);
  if (active.run.started_at) ended = std::max(ended, *active.run.started_at);
  Finish(active, RunStatus::kLost, reason, ended, fx);
  const ActiveRun taken = TakeActive(it);
  AfterRun(taken, now, fx);
}

void Scheduler::WorkerLost(const std::string& id, const std::string& reason, absl::Time now,
                           Effects* fx, absl::Time last_seen) {
  SetWorkerConnected(id, false);
  std::vector<RunId> runs;
  for (const auto& [rid, r] : active_) {
    if (r.dispatched && r.run.worker == id) runs.push_back(rid);
  }
  for (RunId rid : runs) Reclaim(rid, reason, now, fx, last_seen);
}

std::vector<RunId> Scheduler::ReattachWorker(const std::string& id,
                                             const std::vector<RunId>& held, absl::Time now,
                                             Effects* fx) {
  const std::set<RunId> holds(held.begin(), held.end());
  std::vector<RunId> gone;
  for (const auto& [rid, r] : active_) {
    if (r.dispatched && r.run.worker == id && !holds.count(rid)) gone.push_back(rid);
  }
  for (RunId rid : gone) {
    Reclaim(rid, absl::StrCat("lost: worker ", id, " came back without it"), now, fx);
  }
  std::vector<RunId> abandon;
  for (RunId rid : held) {
    auto it = active_.find(rid);
    if (it == active_.end() || !it->second.dispatched || it->second.run.worker != id) {
      abandon.push_back(rid);
    }
  }
  return abandon;
}

std::map<std::string, WorkerRuns> Scheduler::RunsByWorker() const {
  std::map<std::string, WorkerRuns> out;
  for (const auto& [rid, r] : active_) {
    if (!r.dispatched) continue;
    WorkerRuns& w = out[r.run.worker];
    (r.run.status == RunStatus::kRunning ? w.running : w.queued).push_back(rid);
  }
  return out;
}

std::string Scheduler::WaitReason(RunId id) const {
  auto it = active_.find(id);
  return it == active_.end() ? std::string() : it->second.wait_reason;
}

void Scheduler::OnWorkerRunFinished(const std::string& worker, const RunResult& result,
                                    absl::Time now, Effects* fx) {
  auto it = active_.find(result.run_id);
  if (it == active_.end() || !it->second.dispatched || it->second.run.worker != worker) return;
  OnRunFinished(result, now, fx);
}

}  // namespace hera::core
