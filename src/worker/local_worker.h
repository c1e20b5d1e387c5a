#pragma once
// The worker inside `hera standalone`: runs dispatched jobs as child processes through
// exec::JobRunner and reports to the engine. The engine reaches it through core::WorkerPort,
// the same port a remote worker implements, so it does not know the worker is in-process.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "core/ports.h"
#include "exec/job_runner.h"
#include "worker/download_stage.h"
#include "worker/fetch_downloads.h"

namespace hera::worker {

struct LocalWorkerOptions {
  std::string id = "local";
  std::string data_dir;  // work dirs in <data_dir>/work/<run>, the ledger in <data_dir>/ledger
  int slots = 8;         // runs at once; more dispatched runs wait in the worker, in order
  absl::Duration kill_grace = absl::Seconds(5);  // SIGTERM → SIGKILL on cancel and timeout
  // How `download[...]` files are fetched before a run starts; hera:// through
  // fetch.open_resource (the master's own store), set by whoever wires the worker.
  FetchOptions fetch;
};

class LocalWorker final : public core::WorkerPort, public exec::RunListener {
 public:
  // Kills processes left over by a previous crash of this worker (recorded in its ledger),
  // then starts the runner. `clock` must outlive the worker.
  static absl::StatusOr<std::unique_ptr<LocalWorker>> Create(const LocalWorkerOptions& options,
                                                             const Clock* clock);
  ~LocalWorker() override;

  // Where reports go; call once, before the first Dispatch. `reports` must outlive the worker,
  // and stop calling back (the engine stopped) before the worker is destroyed.
  void Attach(core::RunReports* reports) { reports_ = reports; }
  const std::string& id() const { return options_.id; }
  int slots() const { return options_.slots; }
  // Run ids whose processes were found alive from a previous crash and killed at Create().
  const std::vector<int64_t>& leftovers() const { return leftovers_; }
  // Drops the leftovers' ledger records: call once the engine has stored what became of them.
  void ForgetLeftovers();
  // Kills every run (each reported finished with cancelled=true), writes any output still held
  // for a start the engine never stored, and stops. Idempotent.
  void Shutdown();

  // core::WorkerPort
  void Dispatch(const std::string& worker, const core::DispatchOrder& order) override;
  void Cancel(const std::string& worker, core::RunId run) override;

  // exec::RunListener
  void OnStarted(int64_t run_id, pid_t pid) override;
  void OnOutput(int64_t run_id, int64_t offset, std::string_view bytes) override;
  void OnFinished(int64_t run_id, const exec::Outcome& outcome) override;
  void OnTurnDone() override;

 private:
  LocalWorker(LocalWorkerOptions options, const Clock* clock)
      : options_(std::move(options)), clock_(clock) {}
  void ReportFailedStart(core::RunId run, const std::string& error);
  // Sends turn_ to the engine; `then`, if set, runs once it and all before it are stored
  // (which makes the engine commit at once).
  void ReportTurn(std::function<void()> then);
  struct HeldOutput {
    int64_t offset = 0;
    std::string bytes;
  };
  using HeldOutputs = absl::flat_hash_map<int64_t, HeldOutput>;
  static constexpr size_t kMaxHeldOutput = 1 << 20;
  // The longest a turn's starts and ends wait to be reported while other runs queue.
  static constexpr std::chrono::milliseconds kMaxTurnHold{8};
  // Appends a held run's output to its log and forgets it (output_mu_ held).
  void ReleaseOutputLocked(HeldOutputs::iterator held);
  // Fetches the order's downloads on the download stage, then starts `spec`; a failed or
  // cancelled fetch ends the run with its reason instead.
  void FetchAndStart(exec::RunSpec spec,
                     const std::vector<std::pair<std::string, std::string>>& downloads);

  const LocalWorkerOptions options_;
  const Clock* const clock_;
  core::RunReports* reports_ = nullptr;
  // The runner's starts and ends since its last turn, reported together (its thread only): a
  // run's end and the start of the next one in its slot then share one engine tick and commit.
  core::RunChanges turn_;
  // Runner's thread only: since when turn_ has been held back (see OnTurnDone).
  std::optional<std::chrono::steady_clock::time_point> turn_held_since_;
  // Runner's thread only: runs whose start the engine may hold back (not stored yet) and
  // that have printed nothing yet.
  std::set<int64_t> start_maybe_held_;
  // The first output of such runs, until their start is stored (then the engine's thread
  // appends it to the log, and later output goes straight there).
  absl::Mutex output_mu_;
  HeldOutputs held_output_ ABSL_GUARDED_BY(output_mu_);
  std::vector<int64_t> leftovers_;
  std::unique_ptr<exec::JobRunner> runner_;
  // After runner_: destroyed first, as its threads hand runs to the runner.
  std::unique_ptr<DownloadStage> downloads_;
};

}  // namespace hera::worker
