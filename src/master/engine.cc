#include "master/engine.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/json_text.h"
#include "common/status.h"
#include "common/short_slices.h"
#include "common/thread_name.h"
#include "core/json_codec.h"
#include "master/definition_check.h"
#include "master/run_preparer.h"
#include "master/secret_sealer.h"

namespace hera::master {

using core::Effects;
using core::Scheduler;

Engine::Engine(core::Store* store, LogStore* logs, core::WorkerPort* workers, const Clock* clock,
               absl::TimeZone tz, const SecretBox* secrets, CommandPolicy commands)
    : store_(store),
      logs_(logs),
      workers_(workers),
      clock_(clock),
      tz_(tz),
      secrets_(secrets),
      commands_(std::move(commands)),
      scheduler_(tz) {
  // Saves are checked as their runs would be (the engine thread calls these, holding the
  // catalog): a typo is refused now, not found at 3 a.m.
  scheduler_.SetDefinitionChecks(
      [this](const core::Job& job, const core::Catalog& catalog, absl::Time now) {
        return CheckJobRenders(job, catalog, now, tz_, secrets_, &commands_);
      },
      [this](const core::Group& group, const core::Catalog& catalog, absl::Time now) {
        return CheckGroupConfigs(group, catalog, now, tz_);
      });
}

Engine::~Engine() { Stop(); }

absl::Status Engine::Start(const std::vector<std::string>& local_workers,
                           const std::vector<core::RunId>& spawned) {
  const absl::Time load_started = absl::Now();
  core::StoredState state;
  auto groups = store_->ListGroups();
  if (!groups.ok()) return groups.status();
  state.groups = *std::move(groups);
  auto jobs = store_->ListAllJobs();
  if (!jobs.ok()) return jobs.status();
  state.jobs = *std::move(jobs);
  // The window's actions (any status) and every unfinished older one: two disjoint reads.
  const absl::Time now = clock_->Now();
  const absl::Time window_start = scheduler_.WindowStart(now);
  auto window = store_->ListActionsBetween(window_start, absl::InfiniteFuture());
  if (!window.ok()) return window.status();
  auto unfinished = store_->ListUnfinishedActions(window_start);
  if (!unfinished.ok()) return unfinished.status();
  state.unfinished_actions = *std::move(window);
  state.unfinished_actions.reserve(state.unfinished_actions.size() + unfinished->size());
  for (auto& a : *unfinished) state.unfinished_actions.push_back(std::move(a));
  unfinished->clear();
  unfinished->shrink_to_fit();
  absl::flat_hash_set<core::ActionId> loaded;
  loaded.reserve(state.unfinished_actions.size());
  for (const auto& a : state.unfinished_actions) loaded.insert(a.id);
  // Upstreams outside the window (latest_before, previous_day links): are they done?
  std::set<core::ActionId> outside;
  for (const auto& a : state.unfinished_actions) {
    for (core::ActionId up : a.upstream) {
      if (!loaded.count(up)) outside.insert(up);
    }
  }
  for (core::ActionId up : outside) {
    auto a = store_->GetAction(up);
    if (a.ok() && a->status == core::ActionStatus::kSuccess) state.succeeded_upstream.push_back(up);
  }
  auto runs = store_->ListUnfinishedRuns();
  if (!runs.ok()) return runs.status();
  state.unfinished_runs = *std::move(runs);
  // Queued runs, and retries of runs lost in a crash, run the revision they captured, which
  // may be older than the job. Each needed (job, version) is loaded once.
  std::map<core::JobId, const core::Job*> job_by_id;
  for (const auto& j : state.jobs) job_by_id[j.id] = &j;
  std::map<core::JobId, std::set<int64_t>> wanted;
  for (const auto& run : state.unfinished_runs) wanted[run.job_id].insert(run.job_version);
  for (const auto& [job_id, versions] : wanted) {
    auto current = job_by_id.find(job_id);
    if (current == job_by_id.end()) continue;  // the job is gone: its runs cannot requeue
    auto revisions = store_->ListJobRevisions(job_id);
    if (!revisions.ok()) continue;
    for (const auto& rev : *revisions) {
      if (!versions.count(rev.version)) continue;
      core::Job job = *current->second;
      const auto def = ParseJsonText(rev.definition_json);
      if (def.ok() && core::ApplyJobJson(*def, &job).ok()) {
        job.version = rev.version;
        state.revisions[{job_id, rev.version}] = std::move(job);
      }
    }
  }
  auto reruns = store_->ListUnfinishedReruns();
  if (!reruns.ok()) return reruns.status();
  state.reruns = *std::move(reruns);
  // Stored actions that batches will run again (their items not started yet); the scheduler
  // prefers its window's copy where it has one.
  for (const core::RerunBatch& batch : state.reruns) {
    for (size_t i = batch.next; i < batch.items.size(); ++i) {
      const core::ActionId id = batch.items[i].action_id;
      if (!id) continue;
      auto action = store_->GetAction(id);
      if (action.ok()) {
        state.rerun_actions.push_back(*std::move(action));
      } else if (!absl::IsNotFound(action.status())) {
        return action.status();
      }
    }
  }
  auto backfills = store_->ListUnfinishedBackfills();
  if (!backfills.ok()) return backfills.status();
  for (const core::Backfill& b : *backfills) {
    for (const core::BackfillNode& n : b.nodes) {
      if (!n.action_id || n.state != core::NodeState::kPending) continue;
      auto action = store_->GetAction(n.action_id);
      if (action.ok()) {
        state.rerun_actions.push_back(*std::move(action));
      } else if (!absl::IsNotFound(action.status())) {
        return action.status();
      }
    }
  }
  state.backfills = *std::move(backfills);
  auto ids = store_->LoadMaxIds();
  if (!ids.ok()) return ids.status();
  state.max_ids = *ids;

  // Runs still on their workers keep writing logs: their secrets must stay masked.
  std::vector<core::DispatchOrder> handed;
  for (const auto& run : state.unfinished_runs) {
    if (run.worker.empty()) continue;
    core::DispatchOrder o;
    o.run_id = run.id;
    o.job_id = run.job_id;
    if (auto rev = state.revisions.find({run.job_id, run.job_version});
        rev != state.revisions.end()) {
      o.configs = rev->second.configs;
    }
    handed.push_back(std::move(o));
  }

  const size_t jobs_loaded = state.jobs.size();
  const size_t actions_loaded = state.unfinished_actions.size();
  const absl::Time restore_started = absl::Now();
  Effects fx;
  scheduler_.Restore(std::move(state), now, &fx);
  MaskRestoredRuns(handed);
  for (const std::string& worker : local_workers) {
    // A crash between a spawn and the commit of its start leaves the run stored as queued; the
    // ledger knows it had started, and a started run must not run again.
    for (core::RunId run : spawned) scheduler_.OnRunStarted(run, worker, now, &fx);
    scheduler_.WorkerLost(worker, "interrupted: hera stopped while this run was running", now,
                          &fx);
  }
  if (!fx.batch.empty()) {
    // Retried like any commit: a start on a disk that is still full waits for room rather
    // than exits (the log says the engine is paused).
    if (auto st = CommitDurably(fx.batch); !st.ok()) return st;
    for (const auto& run : fx.batch.runs) {
      if (core::IsTerminal(run.status) || !run.message.empty()) {
        spdlog::warn("run {} of job {}: {}: {}", run.id, run.job_id, core::Name(run.status),
                     run.message);
      }
    }
  }
  spdlog::info("scheduler restored: {} jobs, {} actions read in {:.1f} s, planned in {:.1f} s",
               jobs_loaded, actions_loaded,
               absl::ToDoubleSeconds(restore_started - load_started),
               absl::ToDoubleSeconds(absl::Now() - restore_started));
  wake_at_ = now;  // the first tick applies missed times and dispatches what is queued
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void Engine::StopRetrying() {
  {
    std::lock_guard lock(mu_);
    no_retries_ = true;
  }
  wake_.notify_all();  // a commit waiting out its backoff gives up now
}

void Engine::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Engine::Post(Event event) {
  {
    std::lock_guard lock(mu_);
    if (exited_) return false;
    events_.push_back(std::move(event));
  }
  wake_.notify_one();
  return true;
}

namespace {

// True if acting on `fx` reaches outside the engine (a worker, a log): its changes must be
// durable first.
bool HasOutsideEffects(const Effects& fx) {
  return !fx.dispatches.empty() || !fx.cancels.empty() || !fx.opened_logs.empty() ||
         !fx.closed_logs.empty();
}

template <typename T>
void AppendAll(std::vector<T>* to, std::vector<T>* from) {
  to->insert(to->end(), std::make_move_iterator(from->begin()),
             std::make_move_iterator(from->end()));
}

// Appends `later` to `earlier`, which is the same as committing them in order: the store applies
// upserts in order (later rows win) and a batch's deletions after its upserts, and ids are never
// reused, so nothing deleted in `earlier` comes back in `later`.
void Append(core::WriteBatch* earlier, core::WriteBatch* later) {
  // Every field of a batch is a vector, and each is merged below: a field added to WriteBatch
  // but not here would be dropped whenever batches are combined.
  static_assert(sizeof(core::WriteBatch) == 12 * sizeof(std::vector<char>),
                "merge every field of core::WriteBatch in Append()");
  AppendAll(&earlier->groups, &later->groups);
  AppendAll(&earlier->deleted_groups, &later->deleted_groups);
  AppendAll(&earlier->jobs, &later->jobs);
  AppendAll(&earlier->deleted_jobs, &later->deleted_jobs);
  AppendAll(&earlier->revisions, &later->revisions);
  AppendAll(&earlier->actions, &later->actions);
  AppendAll(&earlier->deleted_actions, &later->deleted_actions);
  AppendAll(&earlier->runs, &later->runs);
  AppendAll(&earlier->reruns, &later->reruns);
  AppendAll(&earlier->host_groups, &later->host_groups);
  AppendAll(&earlier->backfills, &later->backfills);
  AppendAll(&earlier->backfill_nodes, &later->backfill_nodes);
}

}  // namespace

void Engine::Loop() {
  NameCurrentThread("hera-engine");
  // Every dispatch waits on this thread: on a host busy with jobs it should run as soon as a
  // report wakes it, not a slice later (W3 on two cores: ~3 % faster).
  (void)RequestShortSlices();
  for (;;) {
    std::deque<Event> events;
    bool exiting = false;
    {
      std::unique_lock lock(mu_);
      auto pending = [this] { return stopping_ || !events_.empty(); };
      std::optional<std::chrono::steady_clock::time_point> until;
      if (wake_at_) {
        // Timers run on the wall clock; the scheduler gets `now` from clock_.
        const absl::Duration wait = std::max(*wake_at_ - clock_->Now(), absl::ZeroDuration());
        until = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(wait);
      }
      if (!held_.empty() && (!until || held_until_ < *until)) until = held_until_;
      if (until) {
        wake_.wait_until(lock, *until, pending);
      } else {
        wake_.wait(lock, pending);
      }
      if (events_.empty() && stopping_) {
        exited_ = true;
        exiting = true;
      }
      events.swap(events_);
    }
    if (exiting) {
      if (!held_.empty()) (void)CommitWithHeld({});
      return;
    }
    const absl::Time now = clock_->Now();
    Effects fx;
    std::vector<Reply> replies;
    replies.reserve(events.size());
    for (auto& event : events) {
      if (Reply reply = event(scheduler_, now, fx)) replies.push_back(std::move(reply));
    }
    scheduler_.Tick(now, &fx);
    scheduler_.Dispatch(now, &fx);
    wake_at_ = scheduler_.NextWakeTime();
    // A tick that nobody waits for and that reaches nothing outside the engine (typically runs
    // that started: their workers' ledgers know) is held back and written with the next commit,
    // usually the end of a run moments later: one commit per run instead of two.
    const bool hold = replies.empty() && !HasOutsideEffects(fx) &&
                      (held_.empty() || std::chrono::steady_clock::now() < held_until_);
    if (hold) {
      if (!fx.batch.empty()) {
        if (held_.empty()) held_until_ = std::chrono::steady_clock::now() + max_hold_;
        Append(&held_, &fx.batch);
      }
      continue;
    }
    const absl::Status committed = CommitWithHeld(std::move(fx.batch));
    if (committed.ok()) Act(fx);
    for (auto& reply : replies) reply(committed);
    // Logs close last: output that a reply lets through (a worker's first output, held until
    // its run's start was stored) belongs in them.
    if (committed.ok()) {
      for (core::RunId run : fx.closed_logs) logs_->CloseRun(run);
      if (!fx.closed_logs.empty()) {
        std::lock_guard lock(mu_);
        for (core::RunId run : fx.closed_logs) cancelled_for_log_.erase(run);
      }
    }
  }
}

absl::Status Engine::CommitWithHeld(core::WriteBatch batch) {
  if (!held_.empty()) {
    Append(&held_, &batch);
    batch = std::exchange(held_, core::WriteBatch());
  }
  return batch.empty() ? absl::OkStatus() : CommitDurably(batch);
}

absl::Status Engine::CommitDurably(const core::WriteBatch& batch) {
  absl::Duration backoff = absl::Milliseconds(50);
  for (;;) {
    const absl::Status st = store_->Commit(batch);
    if (st.ok()) {
      if (disk_) disk_->OnWriteOk();
      return st;
    }
    const bool full = disk_ && disk_->OnWriteFailure(st);
    spdlog::error("engine paused: cannot write to the store{} ({}); retrying",
                  full ? " (the disk is full)" : "", st.ToString());
    std::unique_lock lock(mu_);
    if (stopping_ || no_retries_) return st;
    wake_.wait_for(lock, absl::ToChronoMilliseconds(backoff));
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

void Engine::Act(const Effects& fx) {
  for (core::RunId run : fx.opened_logs) logs_->OpenRun(run);
  for (const auto& [worker, order] : fx.dispatches) DispatchPrepared(worker, order);
  for (const auto& [worker, run] : fx.cancels) workers_->Cancel(worker, run);
}

void Engine::DispatchPrepared(const std::string& worker, const core::DispatchOrder& order) {
  core::DispatchOrder prepared = order;
  auto secrets = PrepareRun(scheduler_.catalog(), secrets_, tz_, &commands_, &prepared);
  if (secrets.ok()) {
    prepared.masked = *secrets;
    logs_->SetSecrets(order.run_id, *std::move(secrets));
    workers_->Dispatch(worker, prepared);
    return;
  }
  // Failed as if the worker had reported it could not start the run, so that retries, the
  // action's status and its downstream follow core's rules. The reason also goes to the log,
  // where a user looks first.
  const std::string why(secrets.status().message());
  spdlog::warn("run {} of job {}: {}", order.run_id, order.job_id, why);
  const std::string line = absl::StrCat("hera: ", why, "\n");
  if (auto st = logs_->Append(order.run_id, logs_->Size(order.run_id), line); !st.ok()) {
    spdlog::warn("run {}: {}", order.run_id, st.ToString());
  }
  core::RunResult result;
  result.run_id = order.run_id;
  result.error = why;
  result.ended_at = clock_->Now();
  OnRunFinished(worker, result);
}

void Engine::MaskRestoredRuns(const std::vector<core::DispatchOrder>& handed) {
  for (core::DispatchOrder order : handed) {
    if (!scheduler_.FindActiveRun(order.run_id)) continue;
    // Only the secrets are wanted here: the command was built when the run was dispatched.
    auto secrets = PrepareRun(scheduler_.catalog(), secrets_, tz_, nullptr, &order);
    if (secrets.ok()) {
      logs_->SetSecrets(order.run_id, *std::move(secrets));
    } else {
      spdlog::warn("run {}: its secrets cannot be masked in its log: {}", order.run_id,
                   secrets.status().ToString());
    }
  }
}

template <typename T>
absl::StatusOr<T> Engine::Call(
    std::function<absl::StatusOr<T>(Scheduler&, absl::Time, Effects&)> fn) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<T>>>();
  auto future = promise->get_future();
  const bool posted = Post([promise, fn = std::move(fn)](Scheduler& s, absl::Time now,
                                                        Effects& fx) -> Reply {
    auto result = std::make_shared<absl::StatusOr<T>>(fn(s, now, fx));
    return [promise, result](const absl::Status& commit) {
      if (!commit.ok() && result->ok()) {
        promise->set_value(commit);
      } else {
        promise->set_value(std::move(*result));
      }
    };
  });
  if (!posted) return absl::UnavailableError("hera is shutting down");
  return future.get();
}

absl::Status Engine::CallStatus(std::function<absl::Status(Scheduler&, absl::Time, Effects&)> fn) {
  auto r = Call<bool>([fn = std::move(fn)](Scheduler& s, absl::Time now,
                                           Effects& fx) -> absl::StatusOr<bool> {
    absl::Status st = fn(s, now, fx);
    if (!st.ok()) return st;
    return true;
  });
  return r.status();
}

void Engine::AddWorker(const core::WorkerSlots& worker) {
  Post([worker](Scheduler& s, absl::Time, Effects&) -> Reply {
    s.AddWorker(worker);
    return nullptr;
  });
}

absl::StatusOr<std::vector<core::RunId>> Engine::RegisterWorker(
    const core::WorkerSlots& worker, const std::vector<core::RunId>& held) {
  return Call<std::vector<core::RunId>>([&](Scheduler& s, absl::Time now, Effects& fx) {
    s.AddWorker(worker);
    return s.ReattachWorker(worker.id, held, now, &fx);
  });
}

void Engine::SetWorkerConnected(const std::string& id, bool connected) {
  Post([id, connected](Scheduler& s, absl::Time, Effects&) -> Reply {
    s.SetWorkerConnected(id, connected);
    return nullptr;
  });
}

void Engine::UpdateWorkerMetrics(const std::string& id, const core::WorkerMetrics& metrics) {
  Post([id, metrics](Scheduler& s, absl::Time, Effects&) -> Reply {
    s.UpdateWorkerMetrics(id, metrics);
    return nullptr;
  });
}

void Engine::WorkerLost(const std::string& id, const std::string& reason, absl::Time last_seen) {
  Post([id, reason, last_seen](Scheduler& s, absl::Time now, Effects& fx) -> Reply {
    s.WorkerLost(id, reason, now, &fx, last_seen);
    return nullptr;
  });
}

absl::Status Engine::SetWorkerDraining(const std::string& id, bool draining) {
  return CallStatus([&](Scheduler& s, absl::Time, Effects&) {
    return s.SetWorkerDraining(id, draining);
  });
}

void Engine::SetKnownHostGroups(std::set<std::string> groups) {
  Post([groups = std::move(groups)](Scheduler& s, absl::Time, Effects&) mutable -> Reply {
    s.SetKnownHostGroups(std::move(groups));
    return nullptr;
  });
}

void Engine::SetDispatchLimits(const core::DispatchLimits& limits) {
  Post([limits](Scheduler& s, absl::Time, Effects&) -> Reply {
    s.SetDispatchLimits(limits);
    return nullptr;
  });
}

absl::StatusOr<std::vector<core::GraphNode>> Engine::GraphAround(core::JobId root, bool up,
                                                                 bool down, int depth) {
  // On the engine thread, from the catalog's dependents index: the cost is the nodes'.
  using Nodes = std::vector<core::GraphNode>;
  return Call<Nodes>([=](Scheduler& s, absl::Time, Effects&) -> absl::StatusOr<Nodes> {
    const core::Catalog& catalog = s.catalog();
    const core::Job* job = catalog.FindJob(root);
    if (!job) return absl::NotFoundError(absl::StrCat("job ", root, " does not exist"));
    Nodes nodes;
    nodes.push_back({*job, 0, core::GraphNode::Side::kRoot});
    for (const bool upward : {true, false}) {
      if (upward ? !up : !down) continue;
      for (const auto& [id, d] : catalog.Around(root, upward, depth)) {
        nodes.push_back({*catalog.FindJob(id), d,
                         upward ? core::GraphNode::Side::kUp : core::GraphNode::Side::kDown});
      }
    }
    return nodes;
  });
}

absl::StatusOr<std::map<std::string, core::WorkerRuns>> Engine::RunsByWorker() {
  return Call<std::map<std::string, core::WorkerRuns>>(
      [](Scheduler& s, absl::Time, Effects&) -> absl::StatusOr<std::map<std::string, core::WorkerRuns>> {
        return s.RunsByWorker();
      });
}

void Engine::BeginShutdown() {
  Post([](Scheduler& s, absl::Time, Effects&) -> Reply {
    s.BeginShutdown();
    return nullptr;
  });
}

// Secrets are sealed on the engine thread: "******" keeps the saved value, which only the
// catalog there knows.
absl::StatusOr<core::Group> Engine::CreateGroup(const nlohmann::json& body,
                                                const std::string& actor) {
  return Call<core::Group>(
      [&](Scheduler& s, absl::Time now, Effects& fx) -> absl::StatusOr<core::Group> {
        HERA_ASSIGN_OR_RETURN(nlohmann::json sealed, SealSecretConfigs(body, nullptr, secrets_));
        return s.CreateGroup(sealed, actor, now, &fx);
      });
}

absl::StatusOr<core::Group> Engine::UpdateGroup(core::GroupId id, const nlohmann::json& body,
                                                const std::string&) {
  return Call<core::Group>(
      [&](Scheduler& s, absl::Time now, Effects& fx) -> absl::StatusOr<core::Group> {
        const core::Group* saved = s.catalog().FindGroup(id);
        HERA_ASSIGN_OR_RETURN(nlohmann::json sealed,
                              SealSecretConfigs(body, saved ? &saved->configs : nullptr, secrets_));
        return s.UpdateGroup(id, sealed, now, &fx);
      });
}

absl::Status Engine::DeleteGroup(core::GroupId id, const std::string&) {
  return CallStatus([&](Scheduler& s, absl::Time, Effects& fx) { return s.DeleteGroup(id, &fx); });
}

absl::StatusOr<core::Job> Engine::CreateJob(const nlohmann::json& body, const std::string& actor,
                                            const core::JobSaveOptions& options) {
  return Call<core::Job>(
      [&](Scheduler& s, absl::Time now, Effects& fx) -> absl::StatusOr<core::Job> {
        HERA_ASSIGN_OR_RETURN(nlohmann::json sealed, SealSecretConfigs(body, nullptr, secrets_));
        return s.CreateJob(sealed, actor, now, &fx, options);
      });
}

absl::StatusOr<core::Job> Engine::UpdateJob(core::JobId id, const nlohmann::json& body,
                                            const std::string& actor,
                                            const core::JobSaveOptions& options) {
  return Call<core::Job>(
      [&](Scheduler& s, absl::Time now, Effects& fx) -> absl::StatusOr<core::Job> {
        const core::Job* saved = s.catalog().FindJob(id);
        HERA_ASSIGN_OR_RETURN(nlohmann::json sealed,
                              SealSecretConfigs(body, saved ? &saved->configs : nullptr, secrets_));
        return s.UpdateJob(id, sealed, actor, now, &fx, options);
      });
}

absl::Status Engine::DeleteJob(core::JobId id, const std::string&) {
  return CallStatus([&](Scheduler& s, absl::Time, Effects& fx) { return s.DeleteJob(id, &fx); });
}

absl::StatusOr<core::RunTicket> Engine::RunJob(core::JobId id, core::Trigger trigger,
                                               const std::string& actor) {
  return Call<core::RunTicket>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.RunJob(id, trigger, actor, now, &fx);
  });
}

absl::StatusOr<core::Run> Engine::CancelRun(core::RunId id, const std::string& actor) {
  return Call<core::Run>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.CancelRun(id, actor, now, &fx);
  });
}

absl::StatusOr<core::RunTicket> Engine::RecoverAction(core::ActionId id,
                                                      const std::string& actor) {
  return Call<core::RunTicket>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.RecoverAction(id, actor, now, &fx);
  });
}

absl::StatusOr<std::vector<core::Job>> Engine::SetJobEnabled(core::JobId id, bool enabled,
                                                             bool chain,
                                                             const std::string& actor) {
  return Call<std::vector<core::Job>>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.SetEnabled(id, enabled, chain, actor, now, &fx);
  });
}

absl::StatusOr<core::RerunBatch> Engine::CreateRerun(core::JobId job, absl::Time from,
                                                     absl::Time to, int parallelism, bool queue,
                                                     const std::string& actor) {
  // The job's stored actions of the range: their times are rerun as those actions.
  auto stored = store_->ListActions(job, from, to + absl::Microseconds(1));  // to included
  if (!stored.ok()) return stored.status();
  return Call<core::RerunBatch>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.CreateRerun(job, from, to, parallelism, actor, now, &fx, *stored, queue);
  });
}

absl::StatusOr<core::Backfill> Engine::CreateBackfill(const core::BackfillRequest& request,
                                                      const core::BackfillOptions& options,
                                                      const std::string& actor) {
  // The stored actions over the range: the times the backfill runs again, and those its
  // dependent jobs take their times from.
  auto known = store_->ListActionsBetween(request.from, request.to + absl::Microseconds(1));
  if (!known.ok()) return known.status();
  return Call<core::Backfill>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.CreateBackfill(request, options, actor, now, &fx, *known);
  });
}

absl::StatusOr<core::Backfill> Engine::StopBackfill(int64_t id, const std::string&) {
  return Call<core::Backfill>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.StopBackfill(id, now, &fx);
  });
}

absl::StatusOr<core::Backfill> Engine::ResumeBackfill(int64_t id, bool retry_failed,
                                                      const std::string&) {
  auto stored = store_->GetBackfill(id);
  if (!stored.ok()) return stored.status();
  auto known = store_->ListActionsBetween(stored->from, stored->to + absl::Microseconds(1));
  if (!known.ok()) return known.status();
  return Call<core::Backfill>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.ResumeBackfill(*stored, retry_failed, now, &fx, *known);
  });
}

absl::StatusOr<core::RerunBatch> Engine::StopRerun(int64_t id, const std::string& actor) {
  return Call<core::RerunBatch>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.StopRerun(id, actor, now, &fx);
  });
}

absl::StatusOr<core::RerunBatch> Engine::RerunFailed(int64_t id, int parallelism,
                                                     const std::string& actor) {
  // Which items failed is read from the store (the batch may have ended long ago).
  auto old = store_->GetRerun(id);
  if (!old.ok()) return old.status();
  std::vector<absl::Time> times;
  for (size_t i = 0; i < old->next && i < old->items.size(); ++i) {  // the items it started
    const core::RerunItem& item = old->items[i];
    if (!item.action_id) continue;
    auto action = store_->GetAction(item.action_id);
    if (action.ok() && (action->status == core::ActionStatus::kFailed ||
                        action->status == core::ActionStatus::kCancelled)) {
      times.push_back(item.time);
    }
  }
  if (times.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("rerun batch ", id, " has no failed item to rerun"));
  }
  const int p = parallelism > 0 ? parallelism : old->parallelism;
  std::sort(times.begin(), times.end());
  auto stored =
      store_->ListActions(old->job_id, times.front(), times.back() + absl::Microseconds(1));
  if (!stored.ok()) return stored.status();
  return Call<core::RerunBatch>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.CreateRerunOfTimes(old->job_id, times, p, id, actor, now, &fx, *stored);
  });
}

absl::StatusOr<core::RunTicket> Engine::SuperRecoverAction(core::ActionId id,
                                                           const std::string& actor) {
  return Call<core::RunTicket>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.SuperRecoverAction(id, actor, now, &fx);
  });
}

absl::StatusOr<core::Action> Engine::ForceAction(core::ActionId id, core::ActionStatus status,
                                                 const std::string& reason,
                                                 const std::string& actor) {
  return Call<core::Action>([&](Scheduler& s, absl::Time now, Effects& fx) {
    return s.ForceAction(id, status, reason, actor, now, &fx);
  });
}

void Engine::OnRunStarted(const std::string& worker, core::RunId run, absl::Time at) {
  Post([worker, run, at](Scheduler& s, absl::Time, Effects& fx) -> Reply {
    s.OnRunStarted(run, worker, at, &fx);
    // Stored at once, not held: a remote worker streams the run's output straight to the
    // log, which must not be read while the run still shows as queued.
    return [](const absl::Status&) {};
  });
}

void Engine::OnRunsChanged(const std::string& worker, core::RunChanges changes,
                           std::function<void()> stored) {
  Post([worker, changes = std::move(changes), stored = std::move(stored)](
           Scheduler& s, absl::Time now, Effects& fx) -> Reply {
    for (const auto& [run, at] : changes.started) s.OnRunStarted(run, worker, at, &fx);
    for (const auto& result : changes.finished) s.OnWorkerRunFinished(worker, result, now, &fx);
    if (!stored) return nullptr;  // may be held for a later commit
    return [stored](const absl::Status& commit) {
      if (commit.ok()) stored();
    };
  });
}

void Engine::OnRunOutput(core::RunId run, int64_t offset, std::string_view bytes) {
  // Logs bypass the engine: they change no scheduling state.
  const absl::Status st = logs_->Append(run, offset, bytes);
  if (st.ok()) return;
  if (!absl::IsResourceExhausted(st)) {
    spdlog::warn("run {}: log chunk dropped: {}", run, st.ToString());
    return;
  }
  // The disk is full: a run whose log cannot be kept is ended, once, rather than left to run
  // unseen (and to fill the disk further on its worker).
  {
    std::lock_guard lock(mu_);
    if (!cancelled_for_log_.insert(run).second) return;
  }
  spdlog::error("run {}: {}; cancelling it", run, std::string(st.message()));
  Post([run](core::Scheduler& s, absl::Time now, Effects& fx) -> Reply {
    (void)s.CancelRun(run, "hera: its log could not be stored, the disk is full", now, &fx);
    return nullptr;
  });
}

void Engine::OnRunFinished(const std::string& worker, const core::RunResult& result) {
  OnRunFinished(worker, result, nullptr);
}

void Engine::OnRunFinished(const std::string& worker, const core::RunResult& result,
                           std::function<void()> stored) {
  Post([worker, result, stored = std::move(stored)](Scheduler& s, absl::Time now,
                                                    Effects& fx) -> Reply {
    // A stale report (from a worker the run no longer belongs to) is ignored inside.
    s.OnWorkerRunFinished(worker, result, now, &fx);
    if (!stored) return nullptr;
    return [stored](const absl::Status& commit) {
      if (commit.ok()) stored();
    };
  });
}

}  // namespace hera::master
