#pragma once
// `hera worker`: the worker side of the master <-> worker protocol (proto/hera/v1/worker.proto,
// DESIGN §2 and §6). It keeps one stream to the master, runs what the master dispatches through
// an exec::JobRunner, streams logs, reports results through a durable outbox until they are
// acknowledged, and fences itself (kills its runs) when it has been away from every master
// longer than the master waits before retrying its runs elsewhere.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/unique_fd.h"
#include "core/ports.h"
#include "exec/external_jobs.h"
#include "exec/job_runner.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/client_context.h"
#include "hera/v1/worker.pb.h"
#include "worker/background_kills.h"
#include "worker/download_stage.h"
#include "worker/fetch_downloads.h"
#include "worker/held_runs.h"
#include "worker/machine_metrics.h"
#include "worker/outgoing_queue.h"
#include "worker/result_outbox.h"
#include "worker/term_file.h"

namespace hera::worker {

struct AgentOptions {
  std::vector<std::string> masters;  // "host:port" of every master; tried in turn. Required.
  std::vector<std::string> host_groups = {"default"};
  int slots = 8;  // runs at once; further dispatched runs wait here for a slot
  // Holds worker_id, term, worker.lock, ledger/, outbox/ and work/<run_id>/. Required.
  std::string data_dir;
  // The caller already holds <data_dir>/worker.lock (LockWorkerDataDir), e.g. to start the
  // ledger guard (exec/ledger_guard.h) before any thread exists. Default: Create() takes it.
  bool data_dir_locked = false;
  std::string token;        // the cluster token, sent as "authorization: Bearer <token>"
  std::string tls_ca_file;  // PEM roots to verify the master by; empty: plaintext
  std::string id;           // empty: generated once and kept in <data_dir>/worker_id
  absl::Duration kill_grace = absl::Seconds(5);  // SIGTERM -> SIGKILL on cancel and timeout
  exec::KillCommands kill_commands;  // for the YARN/MapReduce jobs a cancelled run started
  // How `download[...]` files are fetched before a run starts (hdfs command, timeout). The
  // agent adds the cluster token and the master's URL (Registered.resource_url) for hera://.
  FetchOptions fetch;
};

// Thread-safety: Run() blocks on one thread; Stop() may be called from any thread (also before
// Run()). Threads: Run()'s (connects, reads the stream, handles orders), a watchdog (handshake
// timeout, self-fencing), one writer per registered stream, the runner's, and short-lived ones
// killing external jobs. Destroy only after Run() returned (or if it was never called).
class WorkerAgent final : public exec::RunListener {
 public:
  // Locks the data dir, kills the processes a crashed predecessor left (each such run gets a
  // result "worker restarted: ..." in the outbox), opens the outbox and the term file, and
  // starts the runner. InvalidArgument for bad options; FailedPrecondition if another worker
  // uses the data dir; otherwise the failing step's error. `clock` (timestamps of reports)
  // must outlive the agent.
  static absl::StatusOr<std::unique_ptr<WorkerAgent>> Create(AgentOptions options,
                                                             const Clock* clock);
  ~WorkerAgent() override;
  WorkerAgent(const WorkerAgent&) = delete;
  WorkerAgent& operator=(const WorkerAgent&) = delete;

  // Connects to the masters (in turn, with backoff) and serves them until Stop(); then kills
  // every run (results stay in the outbox for the next start) and returns OK.
  absl::Status Run();
  // Makes Run() return soon: stops connecting and ends the current stream. Idempotent.
  void Stop();

  const std::string& id() const { return id_; }
  // Run ids whose processes a previous crash left behind and Create() killed.
  const std::vector<int64_t>& leftovers() const { return leftovers_; }

  // exec::RunListener (the runner's thread)
  void OnStarted(int64_t run_id, pid_t pid) override;
  void OnOutput(int64_t run_id, int64_t offset, std::string_view bytes) override;
  void OnFinished(int64_t run_id, const exec::Outcome& outcome) override;

 private:
  struct SessionEnd {
    bool registered = false;  // the master answered Register: stay with it and reset backoff
  };

  WorkerAgent(AgentOptions options, const Clock* clock);
  absl::Status Init();
  absl::Status ReportLeftovers();

  // Connection thread.
  SessionEnd RunSession(size_t master);
  v1::WorkerMessage BuildRegister();
  void Abandon(const v1::Registered& registered);
  void Handle(const v1::MasterMessage& message);
  void HandleDispatch(const v1::Dispatch& dispatch);
  void HandleCancel(int64_t run_id);
  void Refuse(int64_t run_id, const std::string& reason);
  // Fetches the run's downloads on the download stage, then starts `spec`; a failed or
  // cancelled fetch ends the run with its reason instead.
  void FetchAndStart(exec::RunSpec spec,
                     const std::vector<std::pair<std::string, std::string>>& downloads,
                     uint64_t term);
  // Records a result of a run that never reached the runner, then reports it.
  void ReportResult(const core::RunResult& result, uint64_t term, int64_t log_bytes);
  // Run `run` of master term `term` could not start (`error` says why): it is no longer held,
  // and its failure is reported like any result.
  void ReportNotStarted(int64_t run, uint64_t term, absl::string_view error);
  bool InOutbox(int64_t run_id) const;
  // Kills run `run_id` in the runner and the external jobs its log announced.
  void KillRun(int64_t run_id);
  void LogConnectFailure(const std::string& master, const grpc::Status& status);
  // Sleeps `d` unless Stop() comes first; returns false if stopping.
  bool SleepUnlessStopped(absl::Duration d);

  // Watchdog thread: ends a handshake the master does not answer, and fences.
  void WatchLoop();
  void Fence(absl::Duration lost_after);

  const AgentOptions options_;
  const Clock* const clock_;
  std::string id_;
  std::string host_;
  UniqueFd lock_;  // flock'ed <data_dir>/worker.lock
  std::vector<int64_t> leftovers_;
  std::unique_ptr<ResultOutbox> outbox_;
  std::optional<TermFile> term_;  // Connection thread only (after Create).
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::unique_ptr<MetricsSampler> sampler_;  // Used by the current session's writer only.
  HeldRuns held_;
  OutgoingQueue queue_;
  std::unique_ptr<BackgroundKills> kills_;
  std::string last_failure_;  // Connection thread only: the last failure logged.

  // Protected by mu_
  absl::Mutex mu_;
  absl::CondVar changed_;  // Stop(), and every change the watchdog waits on.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;  // The current stream's.
  std::optional<absl::Time> handshake_deadline_ ABSL_GUARDED_BY(mu_);
  // Since when no master is registered (unset while one is, and before the first).
  std::optional<absl::Time> disconnected_since_ ABSL_GUARDED_BY(mu_);
  // While registered: when the master last wrote to us (it writes every heartbeat interval).
  std::optional<absl::Time> last_heard_ ABSL_GUARDED_BY(mu_);
  absl::Duration lost_after_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();  // 0: never fence
  bool fenced_ ABSL_GUARDED_BY(mu_) = false;  // This disconnection's runs were killed.
  // Runs killed by fencing: their results say so, and the master retries them (not cancelled).
  std::set<int64_t> fenced_runs_ ABSL_GUARDED_BY(mu_);
  // Runs killed because the worker stops: retried by the master too, not cancelled.
  std::set<int64_t> stopped_runs_ ABSL_GUARDED_BY(mu_);

  // The current master's URL for hera:// downloads (Registered.resource_url, its wildcard
  // host replaced by the one this worker reached it at); empty before the first registration.
  std::string resource_url_ ABSL_GUARDED_BY(mu_);

  // Last: destroyed first, since its thread calls the listener, which uses everything above.
  std::unique_ptr<exec::JobRunner> runner_;
  // After runner_: destroyed before it, as its threads hand runs to the runner.
  std::unique_ptr<DownloadStage> downloads_;
};

}  // namespace hera::worker
