#include "core/scheduler.h"

#include <gtest/gtest.h>

#include "core/scheduler_fixture.h"

namespace hera::core {
namespace {

using nlohmann::json;

const absl::Time kNow = testing::kFixtureNow;

class SchedulerTest : public testing::SchedulerFixture {};

TEST_F(SchedulerTest, ManualRunIsQueuedThenDispatchedToAFreeSlot) {
  const JobId job = AddJob("a");
  Effects fx;
  const RunId run = StartRun(job, &fx);
  ASSERT_EQ(fx.batch.runs.size(), 1u);
  EXPECT_EQ(fx.batch.runs[0].status, RunStatus::kQueued);
  ASSERT_EQ(fx.batch.actions.size(), 1u);
  EXPECT_EQ(fx.batch.actions[0].status, ActionStatus::kQueued);
  sched_.Dispatch(kNow, &fx);
  EXPECT_TRUE(fx.dispatches.empty()) << "no worker yet";
  sched_.AddWorker({"local", 1});
  sched_.Dispatch(kNow, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  EXPECT_EQ(fx.dispatches[0].first, "local");
  const DispatchOrder& order = fx.dispatches[0].second;
  EXPECT_EQ(order.run_id, run);
  EXPECT_EQ(order.script, "true");
  bool has_run_env = false;
  for (const auto& [k, v] : order.env) has_run_env |= (k == "HERA_RUN_ID" && v == "1");
  EXPECT_TRUE(has_run_env);
}

TEST_F(SchedulerTest, OrdersCarryTheJobsConfigsAndZoneForRendering) {
  const JobId job = AddJob("a", {{"configs", {{"day", "${yesterday}"}}},
                                 {"schedule", {{"timezone", "Asia/Shanghai"}}}});
  sched_.AddWorker({"local", 1});
  Effects fx;
  StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  const DispatchOrder& order = fx.dispatches[0].second;
  EXPECT_EQ(order.configs, (Configs{{"day", "${yesterday}"}}));
  EXPECT_EQ(order.timezone, "Asia/Shanghai");
  EXPECT_TRUE(order.downloads.empty()) << "filled by the master's rendering, not by core";
}

TEST_F(SchedulerTest, ExitCodesBecomeStatuses) {
  const JobId job = AddJob("a");
  sched_.AddWorker({"local", 4});
  Effects fx;
  const RunId ok = StartRun(job, &fx);
  const RunId bad = StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  sched_.OnRunStarted(ok, "local", kNow, &fx);
  Effects done;
  sched_.OnRunFinished(Exit(ok, 0), &done);
  sched_.OnRunFinished(Exit(bad, 7), &done);
  ASSERT_EQ(done.batch.runs.size(), 2u);
  EXPECT_EQ(done.batch.runs[0].status, RunStatus::kSuccess);
  EXPECT_EQ(done.batch.runs[1].status, RunStatus::kFailed);
  EXPECT_EQ(done.batch.runs[1].exit_code, 7);
  EXPECT_EQ(done.batch.runs[1].message, "exit code 7");
  EXPECT_EQ(done.batch.actions[1].status, ActionStatus::kFailed);
  EXPECT_EQ(sched_.active_runs(), 0u);
  // A repeated report (a worker re-sending after a reconnect) changes nothing.
  Effects again;
  sched_.OnRunFinished(Exit(ok, 0), &again);
  EXPECT_TRUE(again.batch.empty());
}

TEST_F(SchedulerTest, SlotsLimitDispatchAndFreeOnFinish) {
  const JobId job = AddJob("a");
  sched_.AddWorker({"local", 2});
  Effects fx;
  const RunId r1 = StartRun(job, &fx);
  StartRun(job, &fx);
  StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  EXPECT_EQ(fx.dispatches.size(), 2u);
  Effects next;
  sched_.OnRunFinished(Exit(r1, 0), &next);
  sched_.Dispatch(kNow, &next);
  ASSERT_EQ(next.dispatches.size(), 1u);
  EXPECT_EQ(next.dispatches[0].second.run_id, 3);
}

TEST_F(SchedulerTest, PrefetchHandsAWorkerMoreRunsThanItsSlots) {
  const JobId job = AddJob("a");
  sched_.AddWorker({"local", 1, 2});
  Effects fx;
  for (int i = 0; i < 5; ++i) StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  ASSERT_EQ(fx.dispatches.size(), 3u);  // one to run, two waiting on the worker
  EXPECT_EQ(fx.dispatches[2].second.run_id, 3);
  Effects next;
  sched_.OnRunFinished(Exit(1, 0), &next);
  sched_.Dispatch(kNow, &next);
  ASSERT_EQ(next.dispatches.size(), 1u);
  EXPECT_EQ(next.dispatches[0].second.run_id, 4);
}

TEST_F(SchedulerTest, CancelQueuedIsImmediateAndRunningAsksTheWorker) {
  const JobId job = AddJob("a");
  sched_.AddWorker({"local", 1});
  Effects fx;
  const RunId running = StartRun(job, &fx);
  const RunId queued = StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  Effects c1;
  auto r = sched_.CancelRun(queued, "bob", kNow, &c1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, RunStatus::kCancelled);
  EXPECT_TRUE(c1.cancels.empty());
  Effects c2;
  ASSERT_TRUE(sched_.CancelRun(running, "bob", kNow, &c2).ok());
  ASSERT_EQ(c2.cancels.size(), 1u);
  RunResult killed;
  killed.run_id = running;
  killed.signal = 15;
  killed.cancelled = true;
  Effects c3;
  sched_.OnRunFinished(killed, &c3);
  EXPECT_EQ(c3.batch.runs.at(0).status, RunStatus::kCancelled);
  EXPECT_EQ(c3.batch.runs.at(0).message, "cancelled by bob");
  EXPECT_EQ(sched_.CancelRun(running, "bob", kNow, &c3).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SchedulerTest, NonConcurrentJobWaitsForItsRunningRun) {
  const JobId job = AddJob("a", {{"allow_concurrent", false}});
  sched_.AddWorker({"local", 4});
  Effects fx;
  const RunId first = StartRun(job, &fx);
  StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  EXPECT_EQ(fx.dispatches.size(), 1u);
  Effects next;
  sched_.OnRunFinished(Exit(first, 0), &next);
  sched_.Dispatch(kNow, &next);
  EXPECT_EQ(next.dispatches.size(), 1u);
}

TEST_F(SchedulerTest, QueueOrderFollowsTriggerThenPriority) {
  const JobId low = AddJob("low", {{"priority", "low"}});
  const JobId high = AddJob("high", {{"priority", "high"}});
  Effects fx;
  ASSERT_TRUE(sched_.RunJob(low, Trigger::kRerun, "a", kNow, &fx).ok());
  ASSERT_TRUE(sched_.RunJob(low, Trigger::kManual, "a", kNow, &fx).ok());
  ASSERT_TRUE(sched_.RunJob(high, Trigger::kManual, "a", kNow, &fx).ok());
  ASSERT_TRUE(sched_.RunJob(low, Trigger::kSchedule, "a", kNow, &fx).ok());
  sched_.AddWorker({"local", 10});
  Effects d;
  sched_.Dispatch(kNow, &d);
  std::vector<RunId> order;
  for (const auto& [w, o] : d.dispatches) order.push_back(o.run_id);
  EXPECT_EQ(order, (std::vector<RunId>{4, 3, 2, 1}));
}

TEST_F(SchedulerTest, RestoreMarksRunningRunsLostAndRequeuesQueuedOnes) {
  const JobId job = AddJob("a");
  StoredState state;
  state.groups.push_back(*sched_.catalog().FindGroup(1));
  state.jobs.push_back(*sched_.catalog().FindJob(job));
  state.revisions[{job, 1}] = *sched_.catalog().FindJob(job);
  for (RunId id : {1, 2}) {
    Action a;
    a.id = id;
    a.job_id = job;
    a.status = id == 1 ? ActionStatus::kRunning : ActionStatus::kQueued;
    state.unfinished_actions.push_back(a);
    core::Run r;
    r.id = id;
    r.job_id = job;
    r.action_id = id;
    r.job_version = 1;
    r.status = id == 1 ? RunStatus::kRunning : RunStatus::kQueued;
    state.unfinished_runs.push_back(r);
  }
  state.max_ids = {1, 1, 2, 2};
  Scheduler restored;
  Effects fx;
  restored.Restore(state, kNow, &fx);
  ASSERT_EQ(fx.batch.runs.size(), 1u);
  EXPECT_EQ(fx.batch.runs[0].id, 1);
  EXPECT_EQ(fx.batch.runs[0].status, RunStatus::kLost);
  EXPECT_NE(fx.batch.runs[0].message.find("interrupted"), std::string::npos);
  ASSERT_EQ(fx.batch.actions.size(), 1u);
  EXPECT_EQ(fx.batch.actions[0].status, ActionStatus::kFailed);
  restored.AddWorker({"local", 1});
  Effects d;
  restored.Dispatch(kNow, &d);
  ASSERT_EQ(d.dispatches.size(), 1u);
  EXPECT_EQ(d.dispatches[0].second.run_id, 2);
  // New ids continue above the stored ones.
  auto t = restored.RunJob(job, Trigger::kManual, "a", kNow, &d);
  EXPECT_EQ(t->run_id, 3);
}

TEST_F(SchedulerTest, RetryOfARunLostInACrashRunsTheRevisionItCaptured) {
  const JobId job = AddJob("a", {{"retry", {{"count", 1}, {"interval_s", 0}}}});
  Job captured = *sched_.catalog().FindJob(job);
  captured.script = "echo captured";
  StoredState state;
  state.groups.push_back(*sched_.catalog().FindGroup(1));
  Job current = captured;
  current.script = "echo edited later";
  current.version = 2;
  state.jobs.push_back(current);
  state.revisions[{job, 1}] = captured;
  Action a;
  a.id = 1;
  a.job_id = job;
  a.status = ActionStatus::kRunning;
  state.unfinished_actions.push_back(a);
  core::Run r;
  r.id = 1;
  r.job_id = job;
  r.action_id = 1;
  r.job_version = 1;
  r.trigger = Trigger::kSchedule;
  r.status = RunStatus::kRunning;
  state.unfinished_runs.push_back(r);
  state.max_ids = {1, 1, 1, 1};
  Scheduler restored;
  restored.AddWorker({"local", 1});
  Effects fx;
  restored.Restore(state, kNow, &fx);
  restored.Dispatch(kNow, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  EXPECT_EQ(fx.dispatches[0].second.attempt, 2);
  EXPECT_EQ(fx.dispatches[0].second.script, "echo captured");
}

TEST_F(SchedulerTest, ShutdownCancelsAreRecordedWithTheReason) {
  const JobId job = AddJob("a");
  sched_.AddWorker({"local", 1});
  Effects fx;
  const RunId run = StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  sched_.BeginShutdown();
  RunResult killed;
  killed.run_id = run;
  killed.cancelled = true;
  killed.signal = 15;
  Effects done;
  sched_.OnRunFinished(killed, &done);
  EXPECT_EQ(done.batch.runs.at(0).status, RunStatus::kCancelled);
  EXPECT_EQ(done.batch.runs.at(0).message, "cancelled: hera was shut down");
  EXPECT_EQ(sched_.RunJob(job, Trigger::kManual, "a", kNow, &done).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(SchedulerTest, JobWithALiveRunIsNotDeletable) {
  const JobId job = AddJob("a");
  Effects fx;
  StartRun(job, &fx);
  EXPECT_EQ(sched_.DeleteJob(job, &fx).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace hera::core
