#include "worker/local_worker.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/mutex_lock.h"
#include "exec/run_ledger.h"
#include "exec/run_setup.h"
#include "worker/job_command.h"
#include "worker/result_record.h"

namespace hera::worker {

absl::StatusOr<std::unique_ptr<LocalWorker>> LocalWorker::Create(
    const LocalWorkerOptions& options, const Clock* clock) {
  std::unique_ptr<LocalWorker> worker(new LocalWorker(options, clock));
  const std::string ledger = options.data_dir + "/ledger";
  // A crashed worker's children outlive it in their own process groups: end them before any
  // run can be started again.
  // Their records stay in the ledger until ForgetLeftovers: until the engine has stored what
  // became of those runs, another crash must find them again.
  worker->leftovers_ = exec::KillLeftovers(ledger, /*keep_records=*/true);
  exec::JobRunnerOptions runner_options;
  runner_options.kill_grace = options.kill_grace;
  runner_options.ledger_dir = ledger;
  runner_options.max_running = options.slots;  // the engine may give more: they wait here
  runner_options.clock = clock;  // ends and starts are recorded by the same clock
  // The engine stores each run's log in this process: a second copy in the work directory
  // would double what a chatty job takes of the disk (and nothing reads it).
  runner_options.keep_output_log = false;
  // A run's record stays in the ledger until the engine has stored its end: a crash before
  // that finds it there, so the restart knows it started (and ends it lost, not runs it again).
  runner_options.keep_ended_records = true;
  auto runner = exec::JobRunner::Create(worker.get(), runner_options);
  if (!runner.ok()) return runner.status();
  worker->runner_ = *std::move(runner);
  worker->downloads_ = std::make_unique<DownloadStage>();
  return worker;
}

LocalWorker::~LocalWorker() { Shutdown(); }

void LocalWorker::Shutdown() {
  // Fetching runs first: a fetch that ends must not hand its run to a stopped runner.
  if (downloads_) downloads_->Shutdown();
  if (runner_) runner_->Shutdown();
  // Output held until the engine stored its run's start is released when the start is stored.
  // An engine that stopped on its own (a failing store) never says so: the output goes to the
  // log now rather than nowhere.
  MutexLock lock(&output_mu_);
  while (!held_output_.empty()) ReleaseOutputLocked(held_output_.begin());
}

void LocalWorker::ForgetLeftovers() { runner_->Forget(leftovers_); }

void LocalWorker::Dispatch(const std::string&, const core::DispatchOrder& order) {
  auto command = CommandOf(order);
  if (!command.ok()) {
    ReportFailedStart(order.run_id, std::string(command.status().message()));
    return;
  }
  exec::RunSpec spec;
  spec.run_id = order.run_id;
  spec.argv = command->argv;
  spec.script = order.script;
  spec.script_name = command->script_name;
  spec.run_as = command->run_as;
  spec.env = order.env;
  spec.masked = order.masked;
  spec.work_dir = absl::StrCat(options_.data_dir, "/work/", order.run_id);
  spec.timeout = absl::Seconds(order.timeout_s);
  if (!order.downloads.empty()) {
    FetchAndStart(std::move(spec), order.downloads);
    return;
  }
  if (auto st = runner_->Start(std::move(spec)); !st.ok()) {
    ReportFailedStart(order.run_id, std::string(st.message()));
  }
}

void LocalWorker::FetchAndStart(exec::RunSpec spec,
                                const std::vector<std::pair<std::string, std::string>>& downloads) {
  FetchJob job;
  job.downloads = downloads;
  job.work_dir = spec.work_dir;
  job.reserved_names = {spec.script_name};
  FetchOptions fetch = options_.fetch;
  // An hdfs client sees what the job will see (HADOOP_USER_NAME from its configs, say).
  fetch.env = exec::MergeEnvironment(exec::CurrentEnvironment(), spec.env);
  const int64_t run = spec.run_id;
  downloads_->Submit(run, std::move(job), std::move(fetch),
                     [this, run, spec = std::move(spec)](absl::Status fetched) mutable {
                       if (fetched.ok()) {
                         if (auto st = runner_->Start(std::move(spec)); !st.ok()) {
                           ReportFailedStart(run, std::string(st.message()));
                         }
                         return;
                       }
                       exec::Outcome outcome;
                       outcome.how = exec::SpawnFailed{std::string(fetched.message())};
                       outcome.cancelled = absl::IsCancelled(fetched);
                       // On the fetch's thread: reported at once, not through the runner's turn.
                       reports_->OnRunFinished(options_.id, ResultOf(run, outcome, clock_->Now()));
                     });
}

void LocalWorker::Cancel(const std::string&, core::RunId run) {
  // A run still fetching is the stage's to end; one it handed on is the runner's.
  if (!downloads_->Cancel(run)) runner_->Cancel(run);
}

void LocalWorker::ReportFailedStart(core::RunId run, const std::string& error) {
  core::RunResult result;
  result.run_id = run;
  result.error = error;
  result.ended_at = clock_->Now();
  reports_->OnRunFinished(options_.id, result);
}

void LocalWorker::OnStarted(int64_t run_id, pid_t) {
  turn_.started.emplace_back(run_id, clock_->Now());
  start_maybe_held_.insert(run_id);
}

void LocalWorker::OnOutput(int64_t run_id, int64_t offset, std::string_view bytes) {
  {
    MutexLock lock(&output_mu_);
    if (auto held = held_output_.find(run_id); held != held_output_.end()) {
      held->second.bytes.append(bytes);
      // A store that does not answer must not make the master hold a chatty job's output:
      // past this much, the log goes on without waiting for the start.
      if (held->second.bytes.size() > kMaxHeldOutput) ReleaseOutputLocked(held);
      return;
    }
    if (start_maybe_held_.erase(run_id) > 0) {
      // The first output of a run whose start the engine may not have stored yet: it waits
      // until the start is stored, so no log line is read while the run shows as queued.
      held_output_.emplace(run_id, HeldOutput{offset, std::string(bytes)});
    } else {
      reports_->OnRunOutput(run_id, offset, bytes);
      return;
    }
  }
  ReportTurn([this, run_id] {
    MutexLock lock(&output_mu_);
    if (auto held = held_output_.find(run_id); held != held_output_.end()) {
      ReleaseOutputLocked(held);
    }
  });
}

void LocalWorker::ReleaseOutputLocked(HeldOutputs::iterator held) {
  reports_->OnRunOutput(held->first, held->second.offset, held->second.bytes);
  held_output_.erase(held);
}

void LocalWorker::OnFinished(int64_t run_id, const exec::Outcome& outcome) {
  start_maybe_held_.erase(run_id);
  turn_.finished.push_back(ResultOf(run_id, outcome, clock_->Now()));
}

void LocalWorker::OnTurnDone() {
  if (turn_.empty()) return;
  // While the runner still has a run waiting for a slot, every slot is busy and the engine's
  // answer to this turn (the next dispatches) is not needed yet: the turn waits to go with the
  // next ones, so the engine wakes and commits once for several ends, whose work otherwise
  // crowds the job processes on a busy host (W3 on two cores: a tenth faster). With the engine's
  // prefetch of one or two queued runs per slot the queue runs dry after a few ends, and then
  // the turn goes at once; kMaxTurnHold bounds the wait when the runs are long.
  const auto now = std::chrono::steady_clock::now();
  if (!turn_held_since_) turn_held_since_ = now;
  const auto until = *turn_held_since_ + kMaxTurnHold;
  if (now < until && runner_->running() > static_cast<size_t>(options_.slots)) {
    runner_->RequestTurnBy(until);
    return;
  }
  ReportTurn(nullptr);
}

void LocalWorker::ReportTurn(std::function<void()> then) {
  turn_held_since_.reset();
  std::vector<int64_t> ended;
  for (const auto& result : turn_.finished) ended.push_back(result.run_id);
  std::function<void()> stored;
  if (!ended.empty() || then) {
    // The ends' ledger records go once the ends are stored (see keep_ended_records).
    stored = [this, ended = std::move(ended), then = std::move(then)] {
      runner_->Forget(ended);
      if (then) then();
    };
  }
  reports_->OnRunsChanged(options_.id, std::exchange(turn_, {}), std::move(stored));
}

}  // namespace hera::worker
