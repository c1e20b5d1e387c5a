#pragma once
// The scheduling state machine: what is queued, what runs where, and what each event changes.
// Pure: no IO, no clock, no threads (time comes in as `now`). Every method that changes state
// appends the writes and orders it decided to `*fx`; a method that returns an error has changed
// nothing. Not thread-safe: only the engine thread uses it.

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/action_book.h"
#include "core/backfill_plan.h"
#include "core/catalog.h"
#include "core/effects.h"
#include "core/model.h"
#include "core/ports.h"
#include "core/store.h"

namespace hera::core {

// What the scheduler restarts from: the store's content (see Scheduler::Restore).
struct StoredState {
  std::vector<Group> groups;
  std::vector<Job> jobs;
  // The scheduling window's actions (any status) and every unfinished older one.
  std::vector<Action> unfinished_actions;
  // Upstream actions outside the window that have succeeded.
  std::vector<ActionId> succeeded_upstream;
  std::vector<Run> unfinished_runs;
  // Rerun batches still running, and the stored actions their items not started yet will run
  // again (those outside the window).
  std::vector<RerunBatch> reruns;
  std::vector<Action> rerun_actions;
  // Backfills still running (their nodes' actions outside the window in rerun_actions too).
  std::vector<Backfill> backfills;
  // The job revision each queued run captured, keyed by (job, version).
  std::map<std::pair<JobId, int64_t>, Job> revisions;
  MaxIds max_ids;
};

// A worker's machine as it last reported it (SEMANTICS.md §6 limits use these).
struct WorkerMetrics {
  double cpu_percent = 0;
  double load_per_core = 0;
  int64_t memory_used_bytes = 0;
  int64_t memory_total_bytes = 0;
  int64_t disk_free_bytes = 0;
  int cpus = 0;
};

// A worker as the scheduler sees it: where runs may go and how many at once.
struct WorkerSlots {
  std::string id;
  int slots = 1;
  // Runs the worker may hold beyond its slots, queued on its side, so that a slot freed by a
  // finished run is refilled at once instead of after a round trip through the engine. Doubled
  // while the worker's runs are short (Scheduler::typical_run_).
  int prefetch = 0;
  std::vector<std::string> host_groups = {};  // jobs naming one of these may run here
  bool connected = true;
  bool draining = false;  // takes nothing new; finishes what it has
  std::optional<WorkerMetrics> metrics = std::nullopt;
};

// Cluster-wide dispatch rules (SEMANTICS.md §6).
struct DispatchLimits {
  int max_in_flight = 0;               // runs handed to workers at once; 0: no cap
  double max_memory_fraction = 0.70;   // a worker above this memory use takes nothing new
  double max_load_per_core = 1.0;      // nor above this 1-minute load per core
  bool round_robin = false;            // among eligible workers; default: the least loaded
};

// The runs a worker holds, as the scheduler sees them.
struct WorkerRuns {
  std::vector<RunId> running;  // reported started
  std::vector<RunId> queued;   // dispatched, not reported started (waiting on the worker)
};

class Scheduler {
 public:
  // `tz` is the server's zone: it bounds the scheduling window (yesterday .. end of
  // tomorrow) and is the zone of jobs that name none.
  explicit Scheduler(absl::TimeZone tz = absl::UTCTimeZone()) : tz_(tz) {}

  // The first instant of the window the engine loads from the store at `now`.
  absl::Time WindowStart(absl::Time now) const;

  // Rebuilds the state from the store after a start or restart at `now`. Runs handed to a
  // worker stay on it until it comes back (ReattachWorker) or is given up (WorkerLost: call it
  // at once for workers that died with the previous process); queued runs stay queued; running
  // runs without a worker are `lost`.
  void Restore(StoredState state, absl::Time now, Effects* fx);

  const Catalog& catalog() const { return catalog_; }

  // Checks beyond the catalog's rules that need more than the core (rendering the script, the
  // command templates), run on a job or group about to be saved at `now`: an error refuses the
  // save. Changes the saves made since it was set.
  using JobCheck = std::function<absl::Status(const Job&, const Catalog&, absl::Time now)>;
  using GroupCheck = std::function<absl::Status(const Group&, const Catalog&, absl::Time now)>;
  void SetDefinitionChecks(JobCheck job, GroupCheck group) {
    job_check_ = std::move(job);
    group_check_ = std::move(group);
  }

  // Definitions (see Catalog for the rules each save obeys).
  absl::StatusOr<Group> CreateGroup(const nlohmann::json& body, const std::string& actor,
                                    absl::Time now, Effects* fx);
  absl::StatusOr<Group> UpdateGroup(GroupId id, const nlohmann::json& body, absl::Time now,
                                    Effects* fx);
  absl::Status DeleteGroup(GroupId id, Effects* fx);
  absl::StatusOr<Job> CreateJob(const nlohmann::json& body, const std::string& actor,
                                absl::Time now, Effects* fx, const JobSaveOptions& options = {});
  absl::StatusOr<Job> UpdateJob(JobId id, const nlohmann::json& body, const std::string& actor,
                                absl::Time now, Effects* fx, const JobSaveOptions& options = {});
  // Refused while the job has a run in progress, is enabled, or others depend on it.
  absl::Status DeleteJob(JobId id, Effects* fx);

  // Starts job `id` now: one action at `now` and its first run, queued.
  absl::StatusOr<RunTicket> RunJob(JobId id, Trigger trigger, const std::string& actor,
                                   absl::Time now, Effects* fx);
  // Runs action `id` again as a recovery: retries apply and its success notifies its
  // downstream actions. Refused while the action is queued or running, or waits in a super
  // recovery wave (the wave runs it).
  absl::StatusOr<RunTicket> RecoverAction(ActionId id, const std::string& actor, absl::Time now,
                                          Effects* fx);
  // Super recovery (超级恢复): runs action `id` again and then every action linked downstream
  // of it whose time has come, each exactly once, each after its upstreams inside the wave
  // succeeded. Refused while action `id` is queued or running, or any of them is in another
  // wave; a member running now runs again when the wave reaches it, or, if its run is still
  // going then, the wave waits for that run and counts its outcome.
  absl::StatusOr<RunTicket> SuperRecoverAction(ActionId id, const std::string& actor,
                                               absl::Time now, Effects* fx);
  // Forces action `id` to success or failed with a reason (an admin's 强制); a forced success
  // lets its downstream actions run like a scheduled one. Refused while it is queued/running.
  absl::StatusOr<Action> ForceAction(ActionId id, ActionStatus status, const std::string& reason,
                                     const std::string& actor, absl::Time now, Effects* fx);
  // Enables or disables job `id` (a save: version + 1, a revision) and replans its actions.
  // Refused: enabling a job whose upstream is disabled, disabling one whose downstream is
  // enabled (SEMANTICS.md §10) — unless `chain`: then every disabled upstream (enabling) or
  // enabled downstream (disabling) changes with it, transitively. Returns the jobs changed.
  absl::StatusOr<std::vector<Job>> SetEnabled(JobId id, bool enabled, bool chain,
                                              const std::string& actor, absl::Time now,
                                              Effects* fx);

  // Rerun batches (重跑历史, SEMANTICS.md §9): one job's cron times in [from, to], run as
  // `rerun` in time order, `parallelism` (1–32) at once, after all other queued work and within
  // a global cap on reruns in flight. A time that has an action (in the window, or in `stored`:
  // the job's stored actions of the range) runs that action again, keeping its history; one
  // with a live run counts that run. Refused while another running batch of the job overlaps
  // the range (naming it). Errors name the field.
  absl::StatusOr<RerunBatch> CreateRerun(JobId job, absl::Time from, absl::Time to,
                                         int parallelism, const std::string& actor,
                                         absl::Time now, Effects* fx,
                                         const std::vector<Action>& stored = {},
                                         bool queue = false);
  // A new batch of `times` of `job` ("rerun the failed ones" of batch `retry_of`).
  absl::StatusOr<RerunBatch> CreateRerunOfTimes(JobId job, std::vector<absl::Time> times,
                                                int parallelism, int64_t retry_of,
                                                const std::string& actor, absl::Time now,
                                                Effects* fx,
                                                const std::vector<Action>& stored = {},
                                                bool queue = false);
  // With `queue`, a batch that overlaps one still running waits for it (status waiting) instead
  // of being refused.
  // Starts nothing more of batch `id` and cancels its queued runs; running ones finish.
  absl::StatusOr<RerunBatch> StopRerun(int64_t id, const std::string& actor, absl::Time now,
                                       Effects* fx);

  // --- backfills (scheduler_backfills.cc) ---
  // A backfill of `request` (core/backfill_plan.h): each node runs its (job, time)'s action
  // again (a new one where the time has none), as `rerun`, once its upstream nodes succeeded
  // (or were skipped), the ready ones oldest (or newest) first, at most `parallelism` at once
  // and within the cap on reruns in flight. `known`: the stored actions of the jobs involved and
  // their direct upstreams over the range. Refused while a running backfill has one of its
  // actions, naming it.
  absl::StatusOr<Backfill> CreateBackfill(const BackfillRequest& request,
                                          const BackfillOptions& options,
                                          const std::string& actor, absl::Time now,
                                          Effects* fx, const std::vector<Action>& known);
  // Starts nothing more, cancels its queued runs (they run again on resume); running ones
  // finish.
  absl::StatusOr<Backfill> StopBackfill(int64_t id, absl::Time now, Effects* fx);
  // Resumes backfill `stored` (as the store has it; the scheduler's copy wins while it holds
  // one), optionally with its failed actions pending again. `known`: its nodes' stored actions.
  absl::StatusOr<Backfill> ResumeBackfill(const Backfill& stored, bool retry_failed,
                                          absl::Time now, Effects* fx,
                                          const std::vector<Action>& known);
  static constexpr int kMaxRerunsInFlight = 16;  // over all batches: scheduled work comes first

  // Time passes: due actions start or wait, retries become due, the window rolls over at
  // midnight. Call at least at NextWakeTime().
  void Tick(absl::Time now, Effects* fx);
  // When Tick() has something to do next, if anything.
  std::optional<absl::Time> NextWakeTime() const;
  const ActionBook& actions() const { return book_; }
  // Cancels a queued run at once, or asks its worker to kill it. A finished run is an error.
  absl::StatusOr<Run> CancelRun(RunId id, const std::string& actor, absl::Time now,
                                Effects* fx);

  // --- workers (scheduler_workers.cc) ---
  // Workers that may take runs. Re-adding a worker updates it and keeps its runs.
  void AddWorker(const WorkerSlots& worker);
  // Host groups that exist (added to those known already: a group never stops existing): a run
  // for any other fails at once (an empty group: any worker).
  void SetKnownHostGroups(const std::set<std::string>& groups) {
    host_groups_.insert(groups.begin(), groups.end());
  }
  void SetDispatchLimits(const DispatchLimits& limits) { limits_ = limits; }
  // A worker's stream came or went; a disconnected worker takes nothing new but keeps its runs
  // until it is declared lost or comes back.
  void SetWorkerConnected(const std::string& id, bool connected);
  // Drain: the worker takes nothing new and finishes what it has. NotFound for unknown ids.
  absl::Status SetWorkerDraining(const std::string& id, bool draining);
  void UpdateWorkerMetrics(const std::string& id, const WorkerMetrics& metrics);
  // The worker is gone for good (silent past the grace period, or a process that died with the
  // master): its started runs are `lost` with `reason`, ended at `last_seen` (the worker's last
  // sign of life; default: now), and retried per their job's policy at `now`; runs it had not
  // started go back to the queue.
  void WorkerLost(const std::string& id, const std::string& reason, absl::Time now, Effects* fx,
                  absl::Time last_seen = absl::InfiniteFuture());
  // A worker (re)registered holding `held` runs. Runs the scheduler has on it that it no longer
  // holds are handled as by WorkerLost; returns the held runs the scheduler does not have on it
  // (finished, retried elsewhere, unknown), which the worker must kill and forget.
  std::vector<RunId> ReattachWorker(const std::string& id, const std::vector<RunId>& held,
                                    absl::Time now, Effects* fx);
  // Workers that hold dispatched runs, with those runs.
  std::map<std::string, WorkerRuns> RunsByWorker() const;
  // Why a queued run is not on a worker yet ("no live worker in host group spark"); empty if
  // it is not queued or only waits for its turn.
  std::string WaitReason(RunId id) const;
  // Hands queued runs to eligible workers, in queue order (SEMANTICS.md §6).
  void Dispatch(absl::Time now, Effects* fx);
  // From now on nothing new is dispatched, and runs killed by the shutdown are recorded as
  // cancelled with that reason.
  void BeginShutdown() { shutting_down_ = true; }

  // Worker reports. Reports about unknown or finished runs are ignored (a worker may repeat
  // itself after a reconnect).
  void OnRunStarted(RunId id, const std::string& worker, absl::Time at, Effects* fx);
  // The run ends at result.ended_at (the worker's clock); what follows from it (downstream
  // runs, retries) happens at `now` (the engine's), so a late report never backdates them.
  void OnRunFinished(const RunResult& result, absl::Time now, Effects* fx);
  // OnRunFinished at the result's own end time (a worker sharing the engine's clock).
  void OnRunFinished(const RunResult& result, Effects* fx) {
    OnRunFinished(result, result.ended_at, fx);
  }
  // OnRunFinished for a report from `worker`: ignored unless the run is dispatched to it (a
  // stale worker never finishes a run that was retried elsewhere).
  void OnWorkerRunFinished(const std::string& worker, const RunResult& result, absl::Time now,
                           Effects* fx);

  // The run as the scheduler holds it while it is queued or running; null otherwise.
  const Run* FindActiveRun(RunId id) const;
  size_t active_runs() const { return active_.size(); }
  // The live run of action `id` (queued, waiting for a retry, dispatched or running), if any.
  std::optional<RunId> LiveRunOf(ActionId id) const;

 private:
  struct ActiveRun {
    Run run;
    Action action;  // a snapshot for runs whose action is not in the book (manual runs)
    DispatchOrder order;
    bool dispatched = false;  // handed to run.worker, which has not reported it finished
    absl::Time not_before = absl::InfinitePast();  // a retry waits in delayed_ until then
    std::string cancelled_by;
    std::string wait_reason;  // why Dispatch could not place it (not persisted unless new)
  };
  // Queue order (SEMANTICS.md §6): queue of the trigger, then priority, then time, then id.
  using QueueKey = std::tuple<int, int, int64_t, RunId>;

  static QueueKey KeyOf(const ActiveRun& r, Priority priority);
  // What a worker needs to run `run` of `action` as `job` defines it (its zone: ZoneOf).
  DispatchOrder MakeOrder(const Job& job, const Run& run, const Action& action) const;
  void Enqueue(ActiveRun active, Priority priority);

  // --- actions (scheduler_actions.cc) ---
  // Replans the actions of `jobs` and everything downstream of them over the window.
  void Replan(const std::vector<JobId>& jobs, absl::Time now, Effects* fx);
  // Plans exactly `targets` over the window (their upstreams' actions must be there already).
  void PlanJobs(const std::set<JobId>& targets, absl::Time now, Effects* fx);
  // Midnight: forgets the next jobs' finished actions that left the window and plans their
  // new day, a slice per Tick, so the engine never stops for the whole catalog at once.
  void RollOverSlice(absl::Time now, Effects* fx);
  // Starts `id` if it is due and every upstream succeeded; otherwise marks it waiting.
  void Evaluate(ActionId id, absl::Time now, Effects* fx);
  // Creates the run of `action_id`'s attempt `attempt` and queues it (after `not_before`).
  // A retry passes the order of the attempt before it (`retry_of`), so it runs the same
  // revision; otherwise the job's current definition is captured. If the action already has
  // a live run, nothing is created and that run's id is returned.
  RunId StartRun(ActionId action_id, Trigger trigger, int attempt, const std::string& actor,
                 absl::Time now, absl::Time not_before, const DispatchOrder* retry_of,
                 Effects* fx);
  // Action `id`'s status changed: its waiting downstream actions say so in their reasons.
  void RefreshDownstreamReasons(ActionId id, absl::Time now, Effects* fx);
  // After a run ended: its action's status, downstream notification and retries.
  void AfterRun(const ActiveRun& ended, absl::Time now, Effects* fx);
  void SaveAction(ActionId id, Effects* fx);
  // Starts the next items of running batches while their parallelism and the cap allow.
  void PumpReruns(absl::Time now, Effects* fx);
  // Waiting batches whose `after` has left start (or wait for the next overlapping one).
  void WakeWaitingReruns(absl::Time now, Effects* fx);
  // A running or waiting batch of `job` other than `self` whose times overlap [from, to].
  const RerunBatch* OverlappingRerun(JobId job, absl::Time from, absl::Time to,
                                     int64_t self) const;
  // A rerun item's run ended.
  void AfterRerunItem(int64_t batch, RunStatus status, absl::Time now, Effects* fx);
  // A wave member succeeded: start the members it was the last in-wave upstream of.
  void AdvanceWave(ActionId done, absl::Time now, Effects* fx);
  // A wave member failed for good: the members after it leave the wave and wait normally.
  void AbandonWave(ActionId failed, absl::Time now, Effects* fx);
  absl::Time WindowEnd(absl::Time now) const;
  void Finish(ActiveRun& active, RunStatus status, std::string message, absl::Time at,
              Effects* fx);
  bool JobHasRunningRun(JobId job) const;
  // The checks a job save passes beyond the catalog's (its host group, job_check_), when what
  // they look at changed since `previous` (null: a new job).
  absl::Status CheckJobSave(const Job& job, const Job* previous, absl::Time now,
                            const JobSaveOptions& options, Effects* fx);
  JobCheck job_check_;
  GroupCheck group_check_;

  const absl::TimeZone tz_;
  Catalog catalog_;
  ActionBook book_;
  absl::Time window_end_ = absl::InfinitePast();  // actions are planned up to here
  // Jobs whose new day is still to plan after midnight, each after its upstreams.
  std::deque<JobId> rollover_;
  absl::Time restored_at_ = absl::InfinitePast();  // due times before it were missed
  bool missed_applied_ = true;  // false until the first Tick after Restore
  MaxIds ids_;
  // Retries waiting for their interval: (due time, run); the run is in active_ but not queued.
  std::set<std::pair<absl::Time, RunId>> delayed_;
  // Super recovery waves: each member action → its upstreams inside the wave not yet
  // succeeded in it, and the action the wave started from. A member runs once when the count
  // reaches zero.
  struct WaveMember {
    int unmet = 0;
    ActionId root = 0;
  };
  std::map<ActionId, WaveMember> wave_unmet_;
  // Wave members that already had a live run when the wave reached them: the wave waits for
  // that run, and its outcome counts as the member's (no second run is started).
  std::set<ActionId> wave_adopted_;
  // Each action's one live run (queued, waiting for a retry, dispatched or running). An action
  // never has two at once, whatever started them: StartRun joins the live run instead.
  std::map<ActionId, RunId> live_run_;
  // Every run in active_ is added and taken out through these two, which keep live_run_.
  void AddActive(ActiveRun active);
  ActiveRun TakeActive(std::map<RunId, ActiveRun>::iterator it);
  std::map<int64_t, RerunBatch> reruns_;           // running batches by id
  std::map<ActionId, int64_t> rerun_of_action_;    // a running batch's item actions
  // Item actions whose live run (started by something else) a batch counts as its own: a
  // stopped batch leaves them be.
  std::set<ActionId> rerun_adopted_;
  // Stored actions outside the window that items not started yet will run again.
  std::map<ActionId, Action> rerun_actions_;
  // Starts rerun item `item` of batch `batch` (its action again, or a new one).
  void StartRerunItem(RerunBatch& batch, RerunItem& item, const Job& job, absl::Time now,
                      Effects* fx);
  // Runs (job, time) again for a rerun batch or a backfill: action `existing` (0: a new one)
  // with a new `rerun` run, or, when it has a live run, that run (`*adopted` set). Returns
  // the action's id.
  ActionId StartReplay(ActionId existing, const Job& job, absl::Time time,
                       const std::string& actor, const std::string& reason, absl::Time now,
                       Effects* fx, bool* adopted);
  // Counts the end of action `id`'s run for the batch or backfill that ran it, if one did.
  void RerunItemEnded(ActionId id, RunStatus status, absl::Time now, Effects* fx);

  // A backfill being run: its nodes and what is needed to pick the next ones quickly.
  struct ActiveBackfill {
    Backfill b;
    std::vector<int> unmet;                       // upstream nodes not succeeded or skipped
    std::vector<std::vector<int>> downstream;     // node → the nodes after it
    std::set<std::pair<absl::Time, int>> ready;   // pending nodes with nothing unmet
    int running = 0;
  };
  static ActiveBackfill Activate(Backfill b);
  std::map<int64_t, ActiveBackfill> backfills_;  // running, or stopped with runs still going
  std::map<ActionId, std::pair<int64_t, int>> backfill_of_action_;  // → (backfill, node)
  // Starts ready nodes while the backfills' parallelism and the cap allow.
  void PumpBackfills(absl::Time now, Effects* fx);
  // Node `index` of backfill `id` ended with `status`.
  void BackfillNodeEnded(int64_t id, int index, RunStatus status, absl::Time now, Effects* fx);
  // Records the backfill (and node `index`'s row, if ≥ 0) in `fx`.
  void SaveBackfill(const ActiveBackfill& active, int index, Effects* fx);
  int reruns_in_flight_ = 0;
  std::map<RunId, ActiveRun> active_;
  std::set<QueueKey> queue_;
  std::map<std::string, WorkerSlots> workers_;
  std::map<std::string, int> busy_;  // worker → runs dispatched to it
  // Worker → a moving average of how long its runs take (started to ended). A worker whose runs
  // are short holds twice its prefetch: the engine's round trip is then long next to a run, and
  // a late high-priority run waits behind at most a few short runs more.
  std::map<std::string, absl::Duration> typical_run_;
  std::set<std::string> host_groups_;
  DispatchLimits limits_;
  size_t in_flight_ = 0;     // runs dispatched to any worker
  size_t round_robin_ = 0;   // rotates the start of the eligible-worker search
  // Dispatch helpers (scheduler_workers.cc).
  // The worker for a run needing `host_group`, or null with `why` set.
  const WorkerSlots* PickWorker(const std::string& host_group, std::string* why);
  // Takes dispatched run `id` back from its worker: lost (ended at `last_seen`, if before
  // `now`) if it had started, else queued again.
  void Reclaim(RunId id, const std::string& reason, absl::Time now, Effects* fx,
               absl::Time last_seen = absl::InfiniteFuture());
  bool shutting_down_ = false;
};

}  // namespace hera::core
