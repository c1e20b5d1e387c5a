#include "worker/local_worker.h"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "exec/test_util.h"
#include "gtest/gtest.h"

namespace hera::worker {
namespace {

using ::hera::exec::testing::TempDir;

// The engine's side of the reports: records every turn's ends and the output, and says at once
// that a turn is stored, or, standing for an engine that has stopped, never.
class RecordingReports : public core::RunReports {
 public:
  explicit RecordingReports(bool confirms_stored = true) : confirms_stored_(confirms_stored) {}
  void OnRunStarted(const std::string&, core::RunId, absl::Time) override {}
  void OnRunOutput(core::RunId, int64_t offset, std::string_view bytes) override {
    std::lock_guard lock(mu_);
    if (offset == static_cast<int64_t>(output_.size())) output_.append(bytes);
  }
  void OnRunFinished(const std::string&, const core::RunResult& result) override {
    std::lock_guard lock(mu_);
    finished_.push_back(result.run_id);
  }
  void OnRunsChanged(const std::string&, core::RunChanges changes,
                     std::function<void()> stored) override {
    {
      std::lock_guard lock(mu_);
      for (const core::RunResult& result : changes.finished) finished_.push_back(result.run_id);
    }
    if (stored && confirms_stored_) stored();
  }
  // The runs reported finished so far, in order.
  std::vector<core::RunId> finished() {
    std::lock_guard lock(mu_);
    return finished_;
  }
  // The output delivered so far (of a single run: tests here read one run's output).
  std::string output() {
    std::lock_guard lock(mu_);
    return output_;
  }
  // Waits up to `timeout` until `run` is reported finished.
  bool WaitFinished(core::RunId run, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      for (core::RunId r : finished()) {
        if (r == run) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  const bool confirms_stored_;
  std::mutex mu_;
  std::string output_;
  std::vector<core::RunId> finished_;
};

core::DispatchOrder ShellOrder(core::RunId run, const std::string& script) {
  core::DispatchOrder order;
  order.run_id = run;
  order.type = core::JobType::kShell;
  order.script = script;
  return order;
}

// A local worker with one slot, reporting to `reports` (which must outlive it: each test ends
// with Shutdown()).
class LocalWorkerTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalWorker> StartWorker(core::RunReports* reports) {
    LocalWorkerOptions options;
    options.data_dir = dir_.path();
    options.slots = 1;
    auto worker = LocalWorker::Create(options, &clock_);
    if (!worker.ok()) {
      ADD_FAILURE() << worker.status();
      return nullptr;
    }
    (*worker)->Attach(reports);
    return *std::move(worker);
  }

 private:
  TempDir dir_;
  RealClock clock_;
};

// A turn waits to be reported while every slot is busy and runs queue behind them, but only a
// little: the end of a quick run is reported while the long run after it still runs, not when
// the runner next has something to do.
TEST_F(LocalWorkerTest, AHeldTurnGoesOutWhileTheSlotStaysBusy) {
  RecordingReports reports;
  auto worker = StartWorker(&reports);
  ASSERT_NE(worker, nullptr);
  worker->Dispatch("local", ShellOrder(1, "true"));
  worker->Dispatch("local", ShellOrder(2, "sleep 30"));
  worker->Dispatch("local", ShellOrder(3, "true"));  // queued: the turn of run 1's end is held
  EXPECT_TRUE(reports.WaitFinished(1, std::chrono::seconds(10)));
  EXPECT_EQ(reports.finished(), std::vector<core::RunId>{1});  // run 2 still runs
  worker->Shutdown();
  EXPECT_TRUE(reports.WaitFinished(3, std::chrono::seconds(10)));  // cancelled before start
}

// A run's first output waits for the engine to store the run's start; if the engine never
// does (it stopped), the output still reaches the log when the worker shuts down.
TEST_F(LocalWorkerTest, OutputHeldForAStartNeverStoredIsWrittenAtShutdown) {
  RecordingReports reports(/*confirms_stored=*/false);  // the engine has stopped
  auto worker = StartWorker(&reports);
  ASSERT_NE(worker, nullptr);
  worker->Dispatch("local", ShellOrder(1, "echo last words"));
  // The run ends; its output stays held, since no start is ever stored.
  ASSERT_TRUE(reports.WaitFinished(1, std::chrono::seconds(10)));
  EXPECT_EQ(reports.output(), "");
  worker->Shutdown();
  EXPECT_EQ(reports.output(), "last words\n");
}

}  // namespace
}  // namespace hera::worker
