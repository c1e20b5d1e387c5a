// Dispatch across workers (SEMANTICS.md §6) and what happens to a worker's runs when it drains,
// disappears or comes back.
#include <gtest/gtest.h>

#include "core/scheduler.h"
#include "core/scheduler_fixture.h"

namespace hera::core {
namespace {

using nlohmann::json;

const absl::Time kNow = testing::kFixtureNow;

class SchedulerWorkersTest : public testing::SchedulerFixture {
 protected:
  void SetUp() override {
    SchedulerFixture::SetUp();
    sched_.SetKnownHostGroups({"default", "spark"});
  }
  static WorkerSlots Worker(const std::string& id, int slots,
                            std::vector<std::string> groups = {"default"}) {
    WorkerSlots w;
    w.id = id;
    w.slots = slots;
    w.host_groups = std::move(groups);
    return w;
  }
  // run id -> worker of every dispatch in `fx`.
  static std::map<RunId, std::string> Placed(const Effects& fx) {
    std::map<RunId, std::string> out;
    for (const auto& [worker, order] : fx.dispatches) out[order.run_id] = worker;
    return out;
  }
};

TEST_F(SchedulerWorkersTest, LeastLoadedSpreadsRunsOverWorkers) {
  const JobId job = AddJob("a");
  sched_.AddWorker(Worker("w1", 4));
  sched_.AddWorker(Worker("w2", 4));
  Effects fx;
  for (int i = 0; i < 6; ++i) StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  std::map<std::string, int> per_worker;
  for (const auto& [run, worker] : Placed(fx)) ++per_worker[worker];
  EXPECT_EQ(per_worker["w1"], 3);
  EXPECT_EQ(per_worker["w2"], 3);
  EXPECT_EQ(sched_.RunsByWorker().at("w1").queued.size(), 3u);
}

TEST_F(SchedulerWorkersTest, RoundRobinTakesWorkersInTurn) {
  const JobId job = AddJob("a");
  sched_.AddWorker(Worker("w1", 10));
  sched_.AddWorker(Worker("w2", 10));
  sched_.AddWorker(Worker("w3", 10));
  DispatchLimits limits;
  limits.round_robin = true;
  sched_.SetDispatchLimits(limits);
  Effects fx;
  for (int i = 0; i < 6; ++i) StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  std::vector<std::string> order;
  for (const auto& [worker, o] : fx.dispatches) order.push_back(worker);
  EXPECT_EQ(order, (std::vector<std::string>{"w1", "w2", "w3", "w1", "w2", "w3"}));
}

TEST_F(SchedulerWorkersTest, HostGroupPinsRunsAndSaysWhyItWaits) {
  const JobId spark = AddJob("s", {{"host_group", "spark"}});
  const JobId any = AddJob("a");
  sched_.AddWorker(Worker("plain", 4));
  Effects fx;
  const RunId pinned = StartRun(spark, &fx);
  const RunId free_run = StartRun(any, &fx);
  sched_.Dispatch(kNow, &fx);
  EXPECT_EQ(Placed(fx), (std::map<RunId, std::string>{{free_run, "plain"}}));
  EXPECT_EQ(sched_.WaitReason(pinned), "no worker in host group spark has registered");
  // The reason is stored on the run, so the API shows it.
  std::string stored;
  for (const core::Run& r : fx.batch.runs) {
    if (r.id == pinned) stored = r.message;
  }
  EXPECT_EQ(stored, "no worker in host group spark has registered");

  sched_.AddWorker(Worker("big", 2, {"spark", "default"}));
  sched_.SetWorkerConnected("big", false);
  Effects again;
  sched_.Dispatch(kNow, &again);
  EXPECT_EQ(sched_.WaitReason(pinned),
            "no live worker in host group spark (disconnected or draining)");
  sched_.SetWorkerConnected("big", true);
  Effects later;
  sched_.Dispatch(kNow, &later);
  EXPECT_EQ(Placed(later), (std::map<RunId, std::string>{{pinned, "big"}}));
  EXPECT_EQ(sched_.WaitReason(pinned), "");
}

TEST_F(SchedulerWorkersTest, AStoredJobWithAnUnknownHostGroupFailsItsRunAtOnce) {
  // A job stored before saves checked host groups.
  StoredState state;
  Group group;
  group.id = 1;
  group.name = "etl";
  Job job;
  job.id = 1;
  job.group_id = 1;
  job.name = "typo";
  job.script = "true";
  job.host_group = "sprak";
  state.groups = {group};
  state.jobs = {job};
  state.max_ids.group = state.max_ids.job = 1;
  Scheduler restored;
  Effects fx;
  restored.Restore(state, kNow, &fx);
  restored.SetKnownHostGroups({"default", "spark"});
  restored.AddWorker(Worker("w1", 4));
  auto ticket = restored.RunJob(1, Trigger::kManual, "alice", kNow, &fx);
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  restored.Dispatch(kNow, &fx);
  EXPECT_TRUE(fx.dispatches.empty());
  EXPECT_EQ(restored.FindActiveRun(ticket->run_id), nullptr);
  ASSERT_FALSE(fx.batch.runs.empty());
  EXPECT_EQ(fx.batch.runs.back().status, RunStatus::kFailed);
  EXPECT_EQ(fx.batch.runs.back().message, "host group 'sprak' does not exist");
}

TEST_F(SchedulerWorkersTest, ANewHostGroupIsRefusedUnlessForcedAndThenItsRunsWait) {
  Effects fx;
  auto typo = sched_.CreateJob({{"name", "typo"}, {"group_id", 1}, {"script", "true"},
                                {"host_group", "sprak"}},
                               "alice", kNow, &fx);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(typo.status().message(),
            "field 'host_group': no worker serves host group 'sprak' (known: default, spark); "
            "check the name, or save with \"force\": true if a worker with it is coming");
  EXPECT_TRUE(fx.batch.empty()) << "a refused save changes nothing";

  std::vector<std::string> warnings;
  auto gpu = sched_.CreateJob({{"name", "train"}, {"group_id", 1}, {"script", "true"},
                               {"host_group", "gpu"}},
                              "alice", kNow, &fx,
                              {.force_host_group = true, .warnings = &warnings});
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("host group 'gpu' is served by no worker yet"), std::string::npos);
  EXPECT_EQ(fx.batch.host_groups, std::vector<std::string>{"gpu"}) << "it exists from now on";
  sched_.AddWorker(Worker("w1", 4));
  Effects run;
  const RunId waiting = StartRun(gpu->id, &run);
  sched_.Dispatch(kNow, &run);
  EXPECT_TRUE(run.dispatches.empty());
  ASSERT_NE(sched_.FindActiveRun(waiting), nullptr) << "it waits for a gpu worker";
  EXPECT_NE(sched_.WaitReason(waiting).find("gpu"), std::string::npos);
  // Saving the job again (another field) does not ask for force again.
  EXPECT_TRUE(sched_.UpdateJob(gpu->id, {{"description", "x"}}, "alice", kNow, &run).ok());
}

TEST_F(SchedulerWorkersTest, DrainingAndOverloadedWorkersTakeNothingNew) {
  const JobId job = AddJob("a");
  sched_.AddWorker(Worker("w1", 4));
  WorkerSlots hot = Worker("w2", 4);
  hot.metrics = WorkerMetrics{.cpu_percent = 90, .load_per_core = 0.2,
                              .memory_used_bytes = 90, .memory_total_bytes = 100};
  sched_.AddWorker(hot);
  ASSERT_TRUE(sched_.SetWorkerDraining("w1", true).ok());
  EXPECT_FALSE(sched_.SetWorkerDraining("nope", true).ok());
  Effects fx;
  const RunId run = StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  EXPECT_TRUE(fx.dispatches.empty());
  EXPECT_EQ(sched_.WaitReason(run), "every worker is over its memory or load limit");
  // Memory back under 70 %, but the load per core above 1.0: still nothing.
  sched_.UpdateWorkerMetrics("w2", {.load_per_core = 1.5, .memory_used_bytes = 10,
                                    .memory_total_bytes = 100});
  Effects again;
  sched_.Dispatch(kNow, &again);
  EXPECT_TRUE(again.dispatches.empty());
  sched_.UpdateWorkerMetrics("w2", {.load_per_core = 0.5, .memory_used_bytes = 10,
                                    .memory_total_bytes = 100});
  Effects later;
  sched_.Dispatch(kNow, &later);
  EXPECT_EQ(Placed(later), (std::map<RunId, std::string>{{run, "w2"}}));
}

TEST_F(SchedulerWorkersTest, GlobalCapLimitsRunsInFlight) {
  const JobId job = AddJob("a");
  sched_.AddWorker(Worker("w1", 10));
  DispatchLimits limits;
  limits.max_in_flight = 2;
  sched_.SetDispatchLimits(limits);
  Effects fx;
  for (int i = 0; i < 5; ++i) StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  EXPECT_EQ(fx.dispatches.size(), 2u);
}

// A lost run goes through AfterRun like any ended run, so retries apply as for a crash
// (covered in scheduler_test); here: what is lost, and that the old worker's word no longer counts.
TEST_F(SchedulerWorkersTest, StartedRunsOfALostWorkerAreLostAndItsLateReportsIgnored) {
  const JobId job = AddJob("a");
  sched_.AddWorker(Worker("w1", 1));
  Effects fx;
  const RunId r1 = StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  sched_.OnRunStarted(r1, "w1", kNow, &fx);
  Effects lost;
  // Last heard from 10 s after the run started, declared lost 30 s later.
  sched_.WorkerLost("w1", "worker silent for 30 s", kNow + absl::Seconds(40), &lost,
                    kNow + absl::Seconds(10));
  bool marked_lost = false;
  for (const core::Run& r : lost.batch.runs) {
    if (r.id == r1 && r.status == RunStatus::kLost) {
      marked_lost = r.message == "worker silent for 30 s";
      EXPECT_EQ(r.ended_at, kNow + absl::Seconds(10)) << "its end is the last sign of life";
    }
  }
  EXPECT_TRUE(marked_lost);
  EXPECT_EQ(sched_.FindActiveRun(r1), nullptr);
  EXPECT_TRUE(sched_.RunsByWorker().empty());
  // A late result of the lost run from the old worker changes nothing.
  Effects stale;
  sched_.OnWorkerRunFinished("w1", Exit(r1, 0), kNow, &stale);
  EXPECT_TRUE(stale.batch.empty());
  // Nor does a report from a worker the run was never given to.
  const RunId r2 = StartRun(job, &fx);
  sched_.AddWorker(Worker("w2", 1));
  sched_.Dispatch(kNow, &fx);
  Effects wrong;
  sched_.OnWorkerRunFinished("w1", Exit(r2, 0), kNow, &wrong);
  EXPECT_TRUE(wrong.batch.empty());
  EXPECT_NE(sched_.FindActiveRun(r2), nullptr);
}

TEST_F(SchedulerWorkersTest, UnstartedRunOfALostWorkerGoesBackToTheQueue) {
  const JobId job = AddJob("a");
  sched_.AddWorker(Worker("w1", 1));
  Effects fx;
  const RunId run = StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  Effects lost;
  sched_.WorkerLost("w1", "worker silent for 30 s", kNow, &lost);
  ASSERT_NE(sched_.FindActiveRun(run), nullptr);
  EXPECT_EQ(sched_.FindActiveRun(run)->status, RunStatus::kQueued);
  EXPECT_EQ(sched_.FindActiveRun(run)->worker, "");
  sched_.AddWorker(Worker("w2", 1));
  Effects again;
  sched_.Dispatch(kNow, &again);
  EXPECT_EQ(Placed(again), (std::map<RunId, std::string>{{run, "w2"}}));
}

TEST_F(SchedulerWorkersTest, ReattachKeepsHeldRunsAndAbandonsTheRest) {
  const JobId job = AddJob("a");
  sched_.AddWorker(Worker("w1", 4));
  Effects fx;
  const RunId held = StartRun(job, &fx);
  const RunId forgotten = StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  sched_.OnRunStarted(held, "w1", kNow, &fx);
  sched_.OnRunStarted(forgotten, "w1", kNow, &fx);
  Effects re;
  std::vector<RunId> abandon = sched_.ReattachWorker("w1", {held, 999}, kNow, &re);
  EXPECT_EQ(abandon, std::vector<RunId>{999});
  ASSERT_NE(sched_.FindActiveRun(held), nullptr);
  EXPECT_EQ(sched_.FindActiveRun(held)->status, RunStatus::kRunning);
  EXPECT_EQ(sched_.FindActiveRun(forgotten), nullptr);
  ASSERT_FALSE(re.batch.runs.empty());
  EXPECT_EQ(re.batch.runs.front().status, RunStatus::kLost);
}

TEST_F(SchedulerWorkersTest, RestoreKeepsRunsOnTheirWorkerUntilItReturns) {
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
    a.manual = true;
    state.unfinished_actions.push_back(a);
    core::Run r;
    r.id = id;
    r.job_id = job;
    r.action_id = id;
    r.job_version = 1;
    r.worker = "remote";
    r.status = id == 1 ? RunStatus::kRunning : RunStatus::kQueued;
    state.unfinished_runs.push_back(r);
  }
  state.max_ids = {1, 1, 2, 2};
  Scheduler restored;
  Effects fx;
  restored.Restore(state, kNow, &fx);
  EXPECT_TRUE(fx.batch.runs.empty()) << "nothing is lost before the worker had its chance";
  EXPECT_EQ(restored.RunsByWorker().at("remote").running, std::vector<RunId>{1});
  EXPECT_EQ(restored.RunsByWorker().at("remote").queued, std::vector<RunId>{2});
  restored.AddWorker(Worker("remote", 2));
  Effects re;
  EXPECT_TRUE(restored.ReattachWorker("remote", {1, 2}, kNow, &re).empty());
  EXPECT_TRUE(re.batch.runs.empty());
  // A result from the worker finishes the run as usual.
  Effects done;
  restored.OnWorkerRunFinished("remote", Exit(1, 0), kNow, &done);
  ASSERT_FALSE(done.batch.runs.empty());
  EXPECT_EQ(done.batch.runs.front().status, RunStatus::kSuccess);
}

// A worker holds `prefetch` runs beyond its slots; twice that while its runs are short (under a
// second on average), and once again when they are long.
TEST_F(SchedulerWorkersTest, AWorkerOfShortRunsHoldsTwiceItsPrefetch) {
  const JobId job = AddJob("a");
  WorkerSlots w = Worker("w1", 1);
  w.prefetch = 1;
  sched_.AddWorker(w);
  Effects fx;
  for (int i = 0; i < 12; ++i) StartRun(job, &fx);
  sched_.Dispatch(kNow, &fx);
  ASSERT_EQ(fx.dispatches.size(), 2u);  // one running, one prefetched
  auto finish_first = [&](absl::Duration took) {
    const RunId run = fx.dispatches.front().second.run_id;
    fx.dispatches.erase(fx.dispatches.begin());
    Effects done;
    sched_.OnRunStarted(run, "w1", kNow, &done);
    sched_.OnWorkerRunFinished("w1", Exit(run, 0, kNow + took), kNow + took, &done);
    sched_.Dispatch(kNow + took, &done);
    for (auto& d : done.dispatches) fx.dispatches.push_back(std::move(d));
  };
  finish_first(absl::Milliseconds(10));
  EXPECT_EQ(fx.dispatches.size(), 3u);  // short runs: one running, two prefetched
  finish_first(absl::Milliseconds(10));
  EXPECT_EQ(fx.dispatches.size(), 3u);
  finish_first(absl::Seconds(60));  // the average is now well over a second
  EXPECT_EQ(fx.dispatches.size(), 2u);
}

}  // namespace
}  // namespace hera::core
