#pragma once
// The engine: one thread that owns the scheduling state (core::Scheduler). API and worker
// threads post events to it; each tick applies every pending event, commits what they changed
// to the store in one transaction, and only then sends orders to workers and answers callers.
// So nothing is acted on, or acknowledged, before it is durable.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <thread>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "core/effects.h"
#include "core/ports.h"
#include "core/scheduler.h"
#include "core/store.h"
#include "master/log_store.h"
#include "master/run_command.h"
#include "master/secret_box.h"

namespace hera::master {

class Engine final : public core::EngineCommands, public core::RunReports {
 public:
  // `store`, `logs`, `workers`, `clock` and `secrets` must outlive the engine. `tz` is the
  // server's zone (the scheduling window's days; jobs without a zone). `secrets` encrypts
  // secret.* configs as they are saved and decrypts them for dispatch; without it a save
  // with a secret is refused. `commands` builds each dispatched run's command.
  Engine(core::Store* store, LogStore* logs, core::WorkerPort* workers, const Clock* clock,
         absl::TimeZone tz, const SecretBox* secrets = nullptr, CommandPolicy commands = {});
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads the state from the store, commits what that changed, and starts the engine thread.
  // `local_workers` ran inside the previous process: their runs died with it and become `lost`
  // (or queued again if they had not started). `spawned` are the runs the local worker's ledger
  // shows it had started, even if their start was not stored before the crash: they are lost,
  // never queued again. Runs of other workers wait for them to come back.
  absl::Status Start(const std::vector<std::string>& local_workers = {},
                     const std::vector<core::RunId>& spawned = {});
  // Lets `worker` take up to `slots` runs at once (re-adding updates it, keeping its runs).
  void AddWorker(const core::WorkerSlots& worker);
  // How long a tick with nothing to tell anyone (typically a run's start) may wait to be written
  // with the next commit; 20 ms unless set. Call before Start().
  void SetMaxHold(std::chrono::milliseconds max_hold) { max_hold_ = max_hold; }

  // Workers (the worker hub's side). Each returns once the engine has applied it.
  // A worker (re)registered holding `held` runs; returns the held runs it must abandon.
  absl::StatusOr<std::vector<core::RunId>> RegisterWorker(const core::WorkerSlots& worker,
                                                          const std::vector<core::RunId>& held);
  void SetWorkerConnected(const std::string& id, bool connected);
  void UpdateWorkerMetrics(const std::string& id, const core::WorkerMetrics& metrics);
  // Gives up a silent worker: its runs are lost (or requeued) with `reason`.
  void WorkerLost(const std::string& id, const std::string& reason,
                  absl::Time last_seen = absl::InfiniteFuture());
  absl::Status SetWorkerDraining(const std::string& id, bool draining);
  void SetKnownHostGroups(std::set<std::string> groups);
  void SetDispatchLimits(const core::DispatchLimits& limits);
  // The runs each worker holds, and why queued runs wait (run id -> reason), read on the
  // engine thread.
  absl::StatusOr<std::map<std::string, core::WorkerRuns>> RunsByWorker();
  // Stops dispatching; runs killed from now on are recorded as cancelled by the shutdown.
  void BeginShutdown();
  // A commit that fails from now on is not retried: its callers get the error (nothing they
  // asked for was saved) and the engine can stop, even with the disk full. Call when a stop
  // begins, before waiting for the requests in flight.
  void StopRetrying();
  // From now on a write that fails for lack of space marks `guard` full, and a run whose log
  // cannot be stored for lack of space is cancelled (it would run on unseen).
  void set_disk_guard(DiskGuard* guard) { disk_ = guard; }
  // Applies what is still pending, then stops the thread. Idempotent.
  void Stop();

  // core::EngineCommands
  absl::StatusOr<std::vector<core::GraphNode>> GraphAround(core::JobId root, bool up, bool down,
                                                           int depth) override;
  absl::StatusOr<core::Group> CreateGroup(const nlohmann::json& body,
                                          const std::string& actor) override;
  absl::StatusOr<core::Group> UpdateGroup(core::GroupId id, const nlohmann::json& body,
                                          const std::string& actor) override;
  absl::Status DeleteGroup(core::GroupId id, const std::string& actor) override;
  absl::StatusOr<core::Job> CreateJob(const nlohmann::json& body, const std::string& actor,
                                      const core::JobSaveOptions& options) override;
  absl::StatusOr<core::Job> UpdateJob(core::JobId id, const nlohmann::json& body,
                                      const std::string& actor,
                                      const core::JobSaveOptions& options) override;
  absl::Status DeleteJob(core::JobId id, const std::string& actor) override;
  absl::StatusOr<core::RunTicket> RunJob(core::JobId id, core::Trigger trigger,
                                         const std::string& actor) override;
  absl::StatusOr<core::Run> CancelRun(core::RunId id, const std::string& actor) override;
  absl::StatusOr<core::RunTicket> RecoverAction(core::ActionId id,
                                                const std::string& actor) override;
  absl::StatusOr<core::RerunBatch> CreateRerun(core::JobId job, absl::Time from, absl::Time to,
                                               int parallelism, bool queue,
                                               const std::string& actor) override;
  absl::StatusOr<core::RerunBatch> StopRerun(int64_t id, const std::string& actor) override;
  absl::StatusOr<core::Backfill> CreateBackfill(const core::BackfillRequest& request,
                                                const core::BackfillOptions& options,
                                                const std::string& actor) override;
  absl::StatusOr<core::Backfill> StopBackfill(int64_t id, const std::string& actor) override;
  absl::StatusOr<core::Backfill> ResumeBackfill(int64_t id, bool retry_failed,
                                                const std::string& actor) override;
  absl::StatusOr<core::RerunBatch> RerunFailed(int64_t id, int parallelism,
                                               const std::string& actor) override;
  absl::StatusOr<core::RunTicket> SuperRecoverAction(core::ActionId id,
                                                     const std::string& actor) override;
  absl::StatusOr<core::Action> ForceAction(core::ActionId id, core::ActionStatus status,
                                           const std::string& reason,
                                           const std::string& actor) override;
  absl::StatusOr<std::vector<core::Job>> SetJobEnabled(core::JobId id, bool enabled, bool chain,
                                                       const std::string& actor) override;

  // core::RunReports (called from worker threads)
  void OnRunStarted(const std::string& worker, core::RunId run, absl::Time at) override;
  void OnRunOutput(core::RunId run, int64_t offset, std::string_view bytes) override;
  void OnRunFinished(const std::string& worker, const core::RunResult& result) override;
  void OnRunsChanged(const std::string& worker, core::RunChanges changes,
                     std::function<void()> stored) override;
  // OnRunFinished for a remote worker: `stored` runs once the result is committed (or was
  // ignored as stale), so the worker may drop it from its outbox.
  void OnRunFinished(const std::string& worker, const core::RunResult& result,
                     std::function<void()> stored);

 private:
  // Runs after the tick's commit with its outcome: answers a caller.
  using Reply = std::function<void(const absl::Status& commit)>;
  // Runs on the engine thread; may change the scheduler and record effects.
  using Event = std::function<Reply(core::Scheduler&, absl::Time now, core::Effects&)>;

  std::vector<std::string> local_workers_;
  // Queues `event`; false once the engine thread has exited (the event is dropped).
  bool Post(Event event);
  // Posts `fn` and waits for its result, which stands only if the tick committed.
  template <typename T>
  absl::StatusOr<T> Call(std::function<absl::StatusOr<T>(core::Scheduler&, absl::Time,
                                                         core::Effects&)> fn);
  absl::Status CallStatus(
      std::function<absl::Status(core::Scheduler&, absl::Time, core::Effects&)> fn);
  void Loop();
  // Commits `fx.batch`, retrying while the store is unavailable (the engine pauses; nothing
  // is acted on before it is written). Returns the last error if stopping interrupted it.
  absl::Status CommitDurably(const core::WriteBatch& batch);
  // Commits what is held back together with `batch`, in one transaction.
  absl::Status CommitWithHeld(core::WriteBatch batch);
  // Opens logs, dispatches and cancels after a commit (logs are closed after the replies).
  void Act(const core::Effects& fx);
  // Renders `order` (master/run_preparer.h) and sends it to `worker`; a run that cannot be
  // rendered is not sent and fails through the path of a worker's report.
  void DispatchPrepared(const std::string& worker, const core::DispatchOrder& order);
  // Masks the secrets of runs restored on their workers in their logs (engine thread).
  void MaskRestoredRuns(const std::vector<core::DispatchOrder>& handed);

  core::Store* const store_;
  LogStore* const logs_;
  core::WorkerPort* const workers_;
  const Clock* const clock_;
  const absl::TimeZone tz_;
  const SecretBox* const secrets_;
  const CommandPolicy commands_;
  core::Scheduler scheduler_;  // engine thread only
  std::optional<absl::Time> wake_at_;  // engine thread only: the scheduler's next timer
  // Engine thread only: changes of ticks that had no effect outside the engine (runs started,
  // which their workers' ledgers record), written with the next commit or by held_until_.
  core::WriteBatch held_;
  std::chrono::steady_clock::time_point held_until_;
  std::chrono::milliseconds max_hold_{20};

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Event> events_;  // guarded by mu_
  bool stopping_ = false;     // guarded by mu_
  bool no_retries_ = false;   // guarded by mu_: StopRetrying() was called
  DiskGuard* disk_ = nullptr;
  std::set<core::RunId> cancelled_for_log_;  // guarded by mu_: runs OnRunOutput cancelled
  bool exited_ = false;       // guarded by mu_: the loop has returned
  std::thread thread_;
};

}  // namespace hera::master
