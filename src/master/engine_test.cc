// The engine over a real SQLite store, with a worker port that only records what it is handed:
// what a restart makes of a run the previous process had handed to its own worker.

#include "master/engine.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace hera::master {
namespace {

class RecordingPort final : public core::WorkerPort {
 public:
  void Dispatch(const std::string&, const core::DispatchOrder& order) override {
    std::lock_guard lock(mu_);
    dispatched_.push_back(order.run_id);
  }
  void Cancel(const std::string&, core::RunId) override {}
  std::vector<core::RunId> dispatched() {
    std::lock_guard lock(mu_);
    return dispatched_;
  }

 private:
  std::mutex mu_;
  std::vector<core::RunId> dispatched_;
};

class EngineRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "hera_engine_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = store::SqliteStore::Open({.path = dir_ + "/hera.db"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto logs = LogStore::Open(dir_ + "/logs");
    ASSERT_TRUE(logs.ok()) << logs.status();
    logs_ = *std::move(logs);
    auto box = SecretBox::FromKey(std::string(SecretBox::kKeyBytes, 'k'));
    ASSERT_TRUE(box.ok()) << box.status();
    secrets_ = std::make_unique<SecretBox>(*std::move(box));

    // The previous process: a run handed to its own worker "local", whose start it did not
    // store before it died (the port records the dispatch; nothing reports a start).
    RecordingPort port;
    auto engine = NewEngine(&port);
    ASSERT_TRUE(engine->Start({"local"}).ok());
    ASSERT_TRUE(engine->CreateGroup({{"name", "etl"}}, "alice").ok());
    auto job = engine->CreateJob({{"name", "j"}, {"group_id", 1}, {"script", "true"}}, "alice", {});
    ASSERT_TRUE(job.ok()) << job.status();
    auto ticket = engine->RunJob(job->id, core::Trigger::kManual, "alice");
    ASSERT_TRUE(ticket.ok()) << ticket.status();
    run_ = ticket->run_id;
    for (int i = 0; i < 500 && port.dispatched().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(port.dispatched(), std::vector<core::RunId>{run_});
    engine->Stop();
    ASSERT_EQ(store_->GetRun(run_)->status, core::RunStatus::kQueued);
    ASSERT_EQ(store_->GetRun(run_)->worker, "local");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Engine> NewEngine(RecordingPort* port) {
    auto engine = std::make_unique<Engine>(store_.get(), logs_.get(), port, &clock_,
                                           absl::UTCTimeZone(), secrets_.get(), CommandPolicy{});
    engine->AddWorker({"local", 1});
    return engine;
  }

  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<LogStore> logs_;
  std::unique_ptr<SecretBox> secrets_;
  RealClock clock_;
  core::RunId run_ = 0;
};

TEST_F(EngineRestartTest, AHandedRunTheWorkerNeverStartedIsQueuedAgain) {
  RecordingPort port;
  auto engine = NewEngine(&port);
  ASSERT_TRUE(engine->Start({"local"}, /*spawned=*/{}).ok());
  for (int i = 0; i < 500 && port.dispatched().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(port.dispatched(), std::vector<core::RunId>{run_});  // the same run, once
  engine->Stop();
}

TEST_F(EngineRestartTest, ARunTheLedgerShowsStartedIsLostNotRunAgain) {
  RecordingPort port;
  auto engine = NewEngine(&port);
  ASSERT_TRUE(engine->Start({"local"}, /*spawned=*/{run_}).ok());
  const core::Run run = *store_->GetRun(run_);
  EXPECT_EQ(run.status, core::RunStatus::kLost);
  EXPECT_NE(run.message.find("interrupted"), std::string::npos) << run.message;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(port.dispatched().empty());
  engine->Stop();
}

// Reports of the worker's runs, as the local worker sends them after each turn of its runner.
class EngineReportsTest : public EngineRestartTest {
 protected:
  // A fresh engine that has handed run_ to "local" again.
  std::unique_ptr<Engine> Restarted(RecordingPort* port) {
    auto engine = NewEngine(port);
    EXPECT_TRUE(engine->Start({"local"}, /*spawned=*/{}).ok());
    for (int i = 0; i < 500 && port->dispatched().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(port->dispatched(), std::vector<core::RunId>{run_});
    return engine;
  }
  void ReportStarted(Engine* engine) {
    core::RunChanges changes;
    changes.started.emplace_back(run_, absl::Now());
    engine->OnRunsChanged("local", std::move(changes), nullptr);
  }
  core::RunStatus StoredStatus() { return store_->GetRun(run_)->status; }
};

// A start alone may wait for the next commit, but not for long: it is stored on its own soon.
TEST_F(EngineReportsTest, AStartAloneIsStoredSoon) {
  RecordingPort port;
  auto engine = Restarted(&port);
  ReportStarted(engine.get());
  for (int i = 0; i < 500 && StoredStatus() != core::RunStatus::kRunning; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(StoredStatus(), core::RunStatus::kRunning);
  engine->Stop();
}

TEST_F(EngineReportsTest, StoppingWritesAHeldStart) {
  RecordingPort port;
  auto engine = NewEngine(&port);
  engine->SetMaxHold(std::chrono::hours(1));  // only the stop can write it
  ASSERT_TRUE(engine->Start({"local"}, /*spawned=*/{}).ok());
  for (int i = 0; i < 500 && port.dispatched().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(port.dispatched(), std::vector<core::RunId>{run_});
  ReportStarted(engine.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(StoredStatus(), core::RunStatus::kQueued);  // held, not written on its own
  engine->Stop();
  EXPECT_EQ(StoredStatus(), core::RunStatus::kRunning);
}

// The worker forgets a run (its ledger record) when told its end is stored: by then it must be.
TEST_F(EngineReportsTest, EndsStoredCallsBackAfterTheEndIsCommitted) {
  RecordingPort port;
  auto engine = Restarted(&port);
  ReportStarted(engine.get());
  core::RunChanges changes;
  core::RunResult result;
  result.run_id = run_;
  result.exit_code = 0;
  result.ended_at = absl::Now();
  changes.finished.push_back(result);
  std::promise<core::RunStatus> at_callback;
  engine->OnRunsChanged("local", std::move(changes),
                        [&] { at_callback.set_value(StoredStatus()); });
  auto status = at_callback.get_future();
  ASSERT_EQ(status.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(status.get(), core::RunStatus::kSuccess);
  engine->Stop();
}

}  // namespace
}  // namespace hera::master
