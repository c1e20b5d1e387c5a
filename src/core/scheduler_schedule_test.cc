// The scheduled side of the Scheduler, stepped like ninja's PlanTest: time is a parameter,
// workers are the test finishing runs by hand.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/time_format.h"
#include "core/scheduler.h"

namespace hera::core {
namespace {

using nlohmann::json;

absl::Time At(int hour, int minute = 0, int day = 23) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, day, hour, minute, 0), absl::UTCTimeZone());
}

class ScheduleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Effects fx;
    ASSERT_TRUE(sched_.CreateGroup({{"name", "etl"}}, "alice", now_, &fx).ok());
    sched_.AddWorker({"w", 100});
  }
  JobId AddJob(const std::string& name, json extra) {
    extra["name"] = name;
    extra["group_id"] = 1;
    extra["script"] = "true";
    if (!extra.contains("enabled")) extra["enabled"] = true;
    Effects fx;
    auto job = sched_.CreateJob(extra, "alice", now_, &fx);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->id : 0;
  }
  const Action* ActionAt(JobId job, absl::Time t) const {
    auto id = sched_.actions().FindByKey({job, t});
    return id ? sched_.actions().Find(*id) : nullptr;
  }
  // Advances to `t`, ticks and dispatches; returns the orders sent.
  std::vector<DispatchOrder> AdvanceTo(absl::Time t) {
    now_ = t;
    Effects fx;
    sched_.Tick(now_, &fx);
    sched_.Dispatch(now_, &fx);
    std::vector<DispatchOrder> out;
    for (auto& [w, o] : fx.dispatches) out.push_back(o);
    return out;
  }
  // Finishes run `order` with `code`; returns what was dispatched right after, same tick.
  std::vector<DispatchOrder> Finish(const DispatchOrder& order, int code) {
    Effects fx;
    RunResult r;
    r.run_id = order.run_id;
    r.exit_code = code;
    r.ended_at = now_;
    sched_.OnRunFinished(r, &fx);
    sched_.Dispatch(now_, &fx);
    std::vector<DispatchOrder> out;
    for (auto& [w, o] : fx.dispatches) out.push_back(o);
    return out;
  }

  absl::Time now_ = At(10, 30);
  Scheduler sched_;
};

TEST_F(ScheduleTest, TimedJobPlansThroughTomorrowAndSkipsTimesBeforeItExisted) {
  const JobId job = AddJob("hourly", {{"schedule", {{"cron", "0 0 * * * ?"}}}});
  EXPECT_EQ(ActionAt(job, At(10))->status, ActionStatus::kSkipped);
  EXPECT_NE(ActionAt(job, At(10))->reason.find("created or enabled after"), std::string::npos);
  EXPECT_EQ(ActionAt(job, At(11))->status, ActionStatus::kPending);
  EXPECT_NE(ActionAt(job, At(23, 0, 24)), nullptr) << "tomorrow is planned";
  EXPECT_EQ(ActionAt(job, At(0, 0, 25)), nullptr) << "the day after is not";
  EXPECT_EQ(sched_.NextWakeTime(), At(11));
  EXPECT_TRUE(AdvanceTo(At(10, 59)).empty());
  auto orders = AdvanceTo(At(11));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].trigger, Trigger::kSchedule);
  EXPECT_EQ(orders[0].scheduled_time, At(11));
  EXPECT_EQ(ActionAt(job, At(11))->status, ActionStatus::kQueued);
}

TEST_F(ScheduleTest, UpstreamSuccessStartsDownstreamInTheSameStep) {
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 12 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  const Action* planned = ActionAt(b, At(12));
  ASSERT_NE(planned, nullptr) << "b follows a's time";
  EXPECT_EQ(planned->upstream, std::vector<ActionId>{ActionAt(a, At(12))->id});
  auto orders = AdvanceTo(At(12));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].job_id, a);
  EXPECT_EQ(ActionAt(b, At(12))->status, ActionStatus::kWaiting);
  EXPECT_NE(ActionAt(b, At(12))->reason.find("waiting for upstream job 1"), std::string::npos);
  auto next = Finish(orders[0], 0);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].job_id, b);
  EXPECT_EQ(next[0].trigger, Trigger::kSchedule);
}

TEST_F(ScheduleTest, AWaitingActionsReasonFollowsItsUpstreamsCurrentState) {
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 12 * * ?"}}},
                               {"retry", {{"count", 2}, {"interval_s", 60}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  const ActionId up = ActionAt(a, At(12))->id;
  const auto reason = [&] { return ActionAt(b, At(12))->reason; };
  auto orders = AdvanceTo(At(12));
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(reason(), absl::StrCat("waiting for upstream job ", a, " (action ", up, ", queued)"));
  Effects started;
  sched_.OnRunStarted(orders[0].run_id, "w", now_, &started);
  EXPECT_EQ(ActionAt(a, At(12))->status, ActionStatus::kRunning);
  EXPECT_EQ(reason(), absl::StrCat("waiting for upstream job ", a, " (action ", up, ", running)"));
  Finish(orders[0], 1);
  EXPECT_NE(reason().find("queued: retry 1 of 2 at"), std::string::npos) << reason();
  for (int attempt = 2; attempt <= 3; ++attempt) {
    auto retry = AdvanceTo(now_ + absl::Seconds(60));
    ASSERT_EQ(retry.size(), 1u);
    Finish(retry[0], 1);
  }
  EXPECT_EQ(ActionAt(a, At(12))->status, ActionStatus::kFailed);
  EXPECT_EQ(reason(), absl::StrCat("waiting for upstream job ", a, " (action ", up,
                                   ") failed after 3 attempts: exit code 1"));
}

TEST_F(ScheduleTest, ManualRunDoesNotNotifyDownstream) {
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 12 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  Effects fx;
  ASSERT_TRUE(sched_.RunJob(a, Trigger::kManual, "bob", now_, &fx).ok());
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  EXPECT_TRUE(Finish(fx.dispatches[0].second, 0).empty());
  EXPECT_EQ(ActionAt(b, At(12))->status, ActionStatus::kPending);
}

TEST_F(ScheduleTest, FailedRunIsRetriedAfterTheIntervalThenTheActionFails) {
  const JobId job = AddJob("flaky", {{"schedule", {{"cron", "0 0 11 * * ?"}}},
                                     {"retry", {{"count", 1}, {"interval_s", 60}}}});
  auto first = AdvanceTo(At(11));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(Finish(first[0], 1).empty()) << "the retry waits for its interval";
  EXPECT_NE(ActionAt(job, At(11))->reason.find("retry 1 of 1"), std::string::npos);
  EXPECT_EQ(sched_.NextWakeTime(), At(11, 1));
  auto second = AdvanceTo(At(11, 1));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2);
  EXPECT_EQ(second[0].action_id, first[0].action_id);
  EXPECT_NE(second[0].run_id, first[0].run_id);
  EXPECT_TRUE(Finish(second[0], 1).empty());
  EXPECT_EQ(ActionAt(job, At(11))->status, ActionStatus::kFailed);
}

TEST_F(ScheduleTest, RecoveryOfAFailedActionContinuesTheChain) {
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 12 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  auto orders = AdvanceTo(At(12));
  EXPECT_TRUE(Finish(orders[0], 3).empty());
  EXPECT_EQ(ActionAt(a, At(12))->status, ActionStatus::kFailed);
  Effects fx;
  auto ticket = sched_.RecoverAction(ActionAt(a, At(12))->id, "bob", now_, &fx);
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  EXPECT_EQ(sched_.RecoverAction(ticket->action_id, "bob", now_, &fx).status().code(),
            absl::StatusCode::kFailedPrecondition);
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  EXPECT_EQ(fx.dispatches[0].second.trigger, Trigger::kRecovery);
  auto next = Finish(fx.dispatches[0].second, 0);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].job_id, b);
}

TEST_F(ScheduleTest, RecoveryReachesSkippedDownstreamActions) {
  // Both jobs were created after 03:00: today's actions are skipped.
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 3 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  const JobId c = AddJob("c", {{"schedule", {{"depends_on", {{{"job_id", b}}}}}}});
  ASSERT_EQ(ActionAt(b, At(3))->status, ActionStatus::kSkipped);
  Effects fx;
  ASSERT_TRUE(sched_.RecoverAction(ActionAt(a, At(3))->id, "bob", now_, &fx).ok());
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  auto next = Finish(fx.dispatches[0].second, 0);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].job_id, b);
  auto last = Finish(next[0], 0);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].job_id, c);
}

TEST_F(ScheduleTest, SuperRecoveryRunsEachDownstreamOnceAfterItsInWaveUpstreams) {
  // a → b, a → c, (b, c) → d: a diamond that ran at 03:00 and succeeded.
  now_ = At(2, 0);
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 3 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  const JobId c = AddJob("c", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  const JobId d = AddJob("d", {{"schedule", {{"depends_on", {{{"job_id", b}}, {{"job_id", c}}}}}}});
  auto first = AdvanceTo(At(3));
  auto bc = Finish(first[0], 0);
  ASSERT_EQ(bc.size(), 2u);
  EXPECT_TRUE(Finish(bc[0], 0).empty());
  auto dd = Finish(bc[1], 0);
  ASSERT_EQ(dd.size(), 1u);
  EXPECT_TRUE(Finish(dd[0], 0).empty());
  ASSERT_EQ(ActionAt(d, At(3))->status, ActionStatus::kSuccess);

  now_ = At(9);
  Effects fx;
  ASSERT_TRUE(sched_.SuperRecoverAction(ActionAt(a, At(3))->id, "bob", now_, &fx).ok());
  EXPECT_EQ(ActionAt(d, At(3))->status, ActionStatus::kWaiting);
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  EXPECT_EQ(fx.dispatches[0].second.trigger, Trigger::kSuperRecovery);
  auto wave_bc = Finish(fx.dispatches[0].second, 0);
  ASSERT_EQ(wave_bc.size(), 2u);
  EXPECT_EQ(wave_bc[0].trigger, Trigger::kSuperRecovery);
  EXPECT_TRUE(Finish(wave_bc[0], 0).empty()) << "d waits for its other in-wave upstream";
  auto wave_d = Finish(wave_bc[1], 0);
  ASSERT_EQ(wave_d.size(), 1u);
  EXPECT_EQ(wave_d[0].job_id, d);
  EXPECT_TRUE(Finish(wave_d[0], 0).empty()) << "each member runs exactly once";
  EXPECT_EQ(ActionAt(d, At(3))->status, ActionStatus::kSuccess);
  // A member's failure stops the wave below it.
  Effects again;
  ASSERT_TRUE(sched_.SuperRecoverAction(ActionAt(b, At(3))->id, "bob", now_, &again).ok());
  EXPECT_EQ(sched_.SuperRecoverAction(ActionAt(b, At(3))->id, "bob", now_, &again).status().code(),
            absl::StatusCode::kFailedPrecondition);
  sched_.Dispatch(now_, &again);
  ASSERT_EQ(again.dispatches.size(), 1u);
  EXPECT_TRUE(Finish(again.dispatches[0].second, 1).empty());
  EXPECT_EQ(ActionAt(d, At(3))->status, ActionStatus::kWaiting);
  EXPECT_NE(ActionAt(d, At(3))->reason.find("waiting for upstream"), std::string::npos);
}

TEST_F(ScheduleTest, ADependentChainRunsInTheZoneOfTheJobItsTimesComeFrom) {
  // A daily extract at 01:30 in Shanghai (17:30 UTC the day before) on a UTC server; the
  // transform and the load below it have no cron and no zone of their own.
  const JobId extract = AddJob("extract", {{"schedule", {{"cron", "0 30 1 * * ?"},
                                                         {"timezone", "Asia/Shanghai"}}}});
  const JobId transform =
      AddJob("transform", {{"schedule", {{"depends_on", {{{"job_id", extract}}}}}}});
  const JobId load = AddJob("load", {{"schedule", {{"depends_on", {{{"job_id", transform}}}}}}});
  const JobId own = AddJob("own_zone", {{"schedule", {{"depends_on", {{{"job_id", extract}}}},
                                                      {"timezone", "UTC"}}}});
  auto first = AdvanceTo(At(17, 30));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].timezone, "Asia/Shanghai");
  auto second = Finish(first[0], 0);
  ASSERT_EQ(second.size(), 2u);
  for (const DispatchOrder& o : second) {
    EXPECT_EQ(o.scheduled_time, At(17, 30)) << "a dependent action takes its upstream's time";
    EXPECT_EQ(o.timezone, o.job_id == own ? "UTC" : "Asia/Shanghai") << o.job_id;
  }
  const DispatchOrder& t = second[0].job_id == transform ? second[0] : second[1];
  auto third = Finish(t, 0);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].job_id, load);
  EXPECT_EQ(third[0].timezone, "Asia/Shanghai") << "inherited down the chain";
  Finish(third[0], 0);

  // A super recovery's wave renders in the same zone.
  Effects fx;
  ASSERT_TRUE(sched_.SuperRecoverAction(ActionAt(extract, At(17, 30))->id, "bob", now_, &fx).ok());
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  for (const DispatchOrder& o : Finish(fx.dispatches[0].second, 0)) {
    if (o.job_id == transform) {
      EXPECT_EQ(o.timezone, "Asia/Shanghai");
      EXPECT_EQ(o.trigger, Trigger::kSuperRecovery);
    }
  }
}

TEST_F(ScheduleTest, ForcedSuccessLetsDownstreamRun) {
  now_ = At(2, 0);
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 3 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  auto first = AdvanceTo(At(3));
  EXPECT_TRUE(Finish(first[0], 1).empty());
  Effects fx;
  EXPECT_EQ(sched_.ForceAction(ActionAt(a, At(3))->id, ActionStatus::kSuccess, "", "root", now_,
                               &fx)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto forced = sched_.ForceAction(ActionAt(a, At(3))->id, ActionStatus::kSuccess,
                                   "fixed the table by hand", "root", now_, &fx);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_EQ(forced->status, ActionStatus::kSuccess);
  EXPECT_EQ(forced->reason, "forced success by root: fixed the table by hand");
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 1u);
  EXPECT_EQ(fx.dispatches[0].second.job_id, b);
}

TEST_F(ScheduleTest, ChainEnableAndDisableChangeTheWholeChain) {
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 12 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  const JobId c = AddJob("c", {{"schedule", {{"depends_on", {{{"job_id", b}}}}}}});
  Effects fx;
  auto off = sched_.SetEnabled(a, false, true, "bob", now_, &fx);
  ASSERT_TRUE(off.ok()) << off.status();
  std::vector<JobId> order;
  for (const Job& j : *off) order.push_back(j.id);
  EXPECT_EQ(order, (std::vector<JobId>{c, b, a})) << "downstreams first";
  for (JobId j : {a, b, c}) EXPECT_FALSE(sched_.catalog().FindJob(j)->enabled);
  auto on = sched_.SetEnabled(c, true, true, "bob", now_, &fx);
  ASSERT_TRUE(on.ok()) << on.status();
  order.clear();
  for (const Job& j : *on) order.push_back(j.id);
  EXPECT_EQ(order, (std::vector<JobId>{a, b, c})) << "upstreams first";
}

TEST_F(ScheduleTest, RerunBatchRunsTimesInOrderWithinItsParallelism) {
  const JobId job = AddJob("hourly", {{"schedule", {{"cron", "0 0 * * * ?"}}}, {"enabled", false}});
  Effects fx;
  EXPECT_EQ(sched_.CreateRerun(job, At(5), At(0), 2, "bob", now_, &fx).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sched_.CreateRerun(job, At(0), At(5), 33, "bob", now_, &fx).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto batch = sched_.CreateRerun(job, At(0, 0, 20), At(2, 0, 20), 2, "bob", now_, &fx);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->items.size(), 3u);
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 2u);
  EXPECT_EQ(fx.dispatches[0].second.trigger, Trigger::kRerun);
  EXPECT_EQ(fx.dispatches[0].second.scheduled_time, At(0, 0, 20));
  EXPECT_EQ(fx.dispatches[1].second.scheduled_time, At(1, 0, 20));
  auto third = Finish(fx.dispatches[0].second, 0);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].scheduled_time, At(2, 0, 20));
  EXPECT_TRUE(Finish(fx.dispatches[1].second, 1).empty());
  Effects done;
  RunResult r;
  r.run_id = third[0].run_id;
  r.exit_code = 0;
  r.ended_at = now_;
  sched_.OnRunFinished(r, &done);
  ASSERT_FALSE(done.batch.reruns.empty());
  const RerunBatch& last = done.batch.reruns.back();
  EXPECT_EQ(last.status, RerunStatus::kDone);
  EXPECT_EQ(last.done, 2);
  EXPECT_EQ(last.failed, 1);
  EXPECT_EQ(sched_.StopRerun(batch->id, "bob", now_, &done).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ScheduleTest, ARerunRunsTheActionATimeHasAndOverlappingBatchesAreRefused) {
  const JobId job = AddJob("hourly", {{"schedule", {{"cron", "0 0 * * * ?"}}}, {"enabled", false}});
  // Nov 20 02:00 has a stored action (outside the window) with a run in its history.
  Action old;
  old.id = 900;
  old.job_id = job;
  old.scheduled_time = At(2, 0, 20);
  old.status = ActionStatus::kFailed;
  old.created_at = At(2, 0, 20);
  Effects fx;
  auto batch = sched_.CreateRerun(job, At(0, 0, 20), At(2, 0, 20), 3, "bob", now_, &fx, {old});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->items[2].action_id, 900) << "the time's action is run again";

  // A second batch over an overlapping range is refused while this one runs, naming it.
  Effects refused;
  auto twice = sched_.CreateRerun(job, At(1, 0, 20), At(4, 0, 20), 1, "eve", now_, &refused);
  ASSERT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find(absl::StrCat("rerun batch ", batch->id, " of job ")),
            std::string::npos)
      << twice.status();
  EXPECT_TRUE(refused.batch.empty());

  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 3u);
  std::map<absl::Time, ActionId> first_actions;
  for (const auto& [w, o] : fx.dispatches) first_actions[o.scheduled_time] = o.action_id;
  EXPECT_EQ(first_actions[At(2, 0, 20)], 900);
  for (const Action& a : fx.batch.actions) {
    if (a.id == 900) {
      EXPECT_EQ(a.created_at, At(2, 0, 20)) << "its history stays its own";
    }
  }
  for (const auto& [w, o] : fx.dispatches) Finish(o, 0);

  // Once it is done, rerunning the range again runs the same three actions, no new one.
  Effects again;
  auto second = sched_.CreateRerun(job, At(0, 0, 20), At(2, 0, 20), 3, "bob", now_, &again,
                                   fx.batch.actions);
  ASSERT_TRUE(second.ok()) << second.status();
  sched_.Dispatch(now_, &again);
  ASSERT_EQ(again.dispatches.size(), 3u);
  for (const auto& [w, o] : again.dispatches) {
    EXPECT_EQ(o.action_id, first_actions[o.scheduled_time]) << FormatIsoTime(o.scheduled_time);
  }
}

TEST_F(ScheduleTest, AnOverlappingBatchMayBeQueuedAfterTheRunningOne) {
  const JobId job = AddJob("hourly", {{"schedule", {{"cron", "0 0 * * * ?"}}}, {"enabled", false}});
  Effects fx;
  auto first = sched_.CreateRerun(job, At(0, 0, 20), At(1, 0, 20), 2, "bob", now_, &fx);
  ASSERT_TRUE(first.ok()) << first.status();
  auto queued = sched_.CreateRerun(job, At(1, 0, 20), At(2, 0, 20), 2, "eve", now_, &fx, {},
                                   /*queue=*/true);
  ASSERT_TRUE(queued.ok()) << queued.status();
  EXPECT_EQ(queued->status, RerunStatus::kWaiting);
  EXPECT_EQ(queued->after, first->id);
  sched_.Dispatch(now_, &fx);
  ASSERT_EQ(fx.dispatches.size(), 2u) << "only the first batch runs";
  std::vector<DispatchOrder> next;
  for (const auto& [w, o] : fx.dispatches) {
    for (const DispatchOrder& d : Finish(o, 0)) next.push_back(d);
  }
  // The first is done: the queued one starts, its 01:00 running again after the first's.
  ASSERT_EQ(next.size(), 2u);
  std::set<absl::Time> times;
  for (const DispatchOrder& o : next) times.insert(o.scheduled_time);
  EXPECT_EQ(times, (std::set<absl::Time>{At(1, 0, 20), At(2, 0, 20)}));
}

TEST_F(ScheduleTest, ARerunOfAWindowActionThatIsRunningCountsThatRun) {
  const JobId job = AddJob("hourly", {{"schedule", {{"cron", "0 0 * * * ?"}}}});
  auto running = AdvanceTo(At(11));
  ASSERT_EQ(running.size(), 1u);
  Effects fx;
  auto batch = sched_.CreateRerun(job, At(11), At(11), 1, "bob", now_, &fx);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->items[0].action_id, running[0].action_id);
  sched_.Dispatch(now_, &fx);
  EXPECT_TRUE(fx.dispatches.empty()) << "never two runs of one action at once";
  Effects done;
  RunResult r;
  r.run_id = running[0].run_id;
  r.exit_code = 0;
  r.ended_at = now_;
  sched_.OnRunFinished(r, &done);
  ASSERT_FALSE(done.batch.reruns.empty());
  EXPECT_EQ(done.batch.reruns.back().status, RerunStatus::kDone);
  EXPECT_EQ(done.batch.reruns.back().done, 1);
  // Run again later, the same action gets a second run of its own.
  Effects later;
  auto again = sched_.CreateRerun(job, At(11), At(11), 1, "bob", now_, &later);
  ASSERT_TRUE(again.ok()) << again.status();
  sched_.Dispatch(now_, &later);
  ASSERT_EQ(later.dispatches.size(), 1u);
  EXPECT_EQ(later.dispatches[0].second.action_id, running[0].action_id);
  EXPECT_EQ(later.dispatches[0].second.trigger, Trigger::kRerun);
}

TEST_F(ScheduleTest, StoppingARerunCancelsWhatIsQueued) {
  const JobId job = AddJob("hourly", {{"schedule", {{"cron", "0 0 * * * ?"}}}, {"enabled", false}});
  sched_.AddWorker({"w", 1});
  Effects fx;
  auto batch = sched_.CreateRerun(job, At(0, 0, 20), At(3, 0, 20), 2, "bob", now_, &fx);
  ASSERT_TRUE(batch.ok());
  auto stopped = sched_.StopRerun(batch->id, "bob", now_, &fx);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->status, RerunStatus::kStopped);
  EXPECT_EQ(stopped->failed, 2) << "its two queued runs were cancelled";
  sched_.Dispatch(now_, &fx);
  EXPECT_TRUE(fx.dispatches.empty());
}

TEST_F(ScheduleTest, DisablingRemovesFuturePendingActionsAndEnablingReplans) {
  const JobId job = AddJob("hourly", {{"schedule", {{"cron", "0 0 * * * ?"}}}});
  Effects fx;
  ASSERT_TRUE(sched_.SetEnabled(job, false, false, "bob", now_, &fx).ok());
  EXPECT_EQ(ActionAt(job, At(11)), nullptr);
  EXPECT_NE(ActionAt(job, At(9)), nullptr) << "history stays";
  EXPECT_FALSE(fx.batch.deleted_actions.empty());
  now_ = At(13, 30);
  Effects on;
  ASSERT_TRUE(sched_.SetEnabled(job, true, false, "bob", now_, &on).ok());
  EXPECT_EQ(ActionAt(job, At(13))->status, ActionStatus::kSkipped);
  EXPECT_EQ(ActionAt(job, At(14))->status, ActionStatus::kPending);
}

TEST_F(ScheduleTest, EnableAndDisableGuardTheChain) {
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 12 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  Effects fx;
  const absl::Status st = sched_.SetEnabled(a, false, false, "bob", now_, &fx).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("job 2 ('b') is enabled and depends on job 1"), std::string::npos);
  ASSERT_TRUE(sched_.SetEnabled(b, false, false, "bob", now_, &fx).ok());
  ASSERT_TRUE(sched_.SetEnabled(a, false, false, "bob", now_, &fx).ok());
  EXPECT_EQ(sched_.SetEnabled(b, true, false, "bob", now_, &fx).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ScheduleTest, SavingACycleIsRefusedNamingIt) {
  const JobId a = AddJob("a", {{"schedule", {{"cron", "0 0 12 * * ?"}}}});
  const JobId b = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a}}}}}}});
  Effects fx;
  const absl::Status st =
      sched_.UpdateJob(a, {{"schedule", {{"depends_on", {{{"job_id", b}}}}}}}, "bob", now_, &fx)
          .status();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("1 → 2 → 1"), std::string::npos) << st;
}

TEST_F(ScheduleTest, BadCronIsRefusedNamingTheField) {
  Effects fx;
  const absl::Status st = sched_.CreateJob({{"name", "x"}, {"group_id", 1},
                                            {"schedule", {{"cron", "0 0 25 * * ?"}}}},
                                           "bob", now_, &fx)
                              .status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("schedule.cron"), std::string::npos) << st;
  EXPECT_NE(st.message().find("hour"), std::string::npos) << st;
}

TEST_F(ScheduleTest, ACronFiringTooOftenIsRefused) {
  Effects fx;
  const absl::Status st = sched_.CreateJob({{"name", "x"}, {"group_id", 1},
                                            {"schedule", {{"cron", "* * * * * ?"}}}},
                                           "bob", now_, &fx)
                              .status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("fires more than 2880 times a day"), std::string::npos) << st;
  EXPECT_TRUE(sched_.CreateJob({{"name", "y"}, {"group_id", 1},
                                {"schedule", {{"cron", "0/30 * * * * ?"}}}},
                               "bob", now_, &fx)
                  .ok());
}

TEST_F(ScheduleTest, MidnightPlansTheNextDay) {
  const JobId job = AddJob("daily", {{"schedule", {{"cron", "0 0 6 * * ?"}}}});
  EXPECT_EQ(ActionAt(job, At(6, 0, 25)), nullptr);
  AdvanceTo(At(0, 0, 24));
  EXPECT_NE(ActionAt(job, At(6, 0, 25)), nullptr);
}

// 600 daily roots r0…r599 and d0…d599, d_i after r_i; r0 also waits for d599, so r0 (the
// lowest id) can only be planned after the highest one.
class RolloverTest : public ScheduleTest {
 protected:
  void SetUp() override {
    ScheduleTest::SetUp();
    for (int i = 0; i < kPairs; ++i) {
      roots_.push_back(AddJob("r" + std::to_string(i), {{"schedule", {{"cron", "0 0 6 * * ?"}}}}));
    }
    for (int i = 0; i < kPairs; ++i) {
      deps_.push_back(AddJob("d" + std::to_string(i),
                             {{"schedule", {{"depends_on", {{{"job_id", roots_[i]}}}}}}}));
    }
    Effects fx;
    ASSERT_TRUE(sched_
                    .UpdateJob(roots_[0],
                               {{"schedule", {{"cron", "0 0 6 * * ?"},
                                              {"depends_on", {{{"job_id", deps_.back()}}}}}}},
                               "alice", now_, &fx)
                    .ok());
  }
  // Jobs without their action of 6:00 on the 25th.
  int Unplanned() const {
    int n = 0;
    for (JobId j : roots_) n += ActionAt(j, At(6, 0, 25)) == nullptr;
    for (JobId j : deps_) n += ActionAt(j, At(6, 0, 25)) == nullptr;
    return n;
  }
  static constexpr int kPairs = 600;
  std::vector<JobId> roots_, deps_;
};

TEST_F(RolloverTest, MidnightPlansTheNewDayInSlicesEachJobAfterItsUpstreams) {
  AdvanceTo(At(0, 0, 24));
  // One tick planned a slice only, and asks to be called again at once.
  EXPECT_GT(Unplanned(), 0);
  EXPECT_LT(Unplanned(), 2 * kPairs);
  ASSERT_TRUE(sched_.NextWakeTime().has_value());
  EXPECT_LE(*sched_.NextWakeTime(), now_);
  for (int i = 0; i < 10 && *sched_.NextWakeTime() <= now_; ++i) AdvanceTo(now_);
  EXPECT_EQ(Unplanned(), 0);
  EXPECT_GT(*sched_.NextWakeTime(), now_);
  // Every link points at the upstream's action of the same new day.
  const Action* r0 = ActionAt(roots_[0], At(6, 0, 25));
  EXPECT_EQ(r0->upstream, std::vector<ActionId>{ActionAt(deps_.back(), At(6, 0, 25))->id});
  for (int i = 0; i < kPairs; ++i) {
    EXPECT_EQ(ActionAt(deps_[i], At(6, 0, 25))->upstream,
              std::vector<ActionId>{ActionAt(roots_[i], At(6, 0, 25))->id});
  }
}

TEST_F(RolloverTest, ASaveDuringTheRolloverFinishesItFirst) {
  AdvanceTo(At(0, 0, 24));
  ASSERT_GT(Unplanned(), 0);
  Effects fx;
  ASSERT_TRUE(sched_.UpdateJob(deps_[0], {{"priority", "high"}}, "alice", now_, &fx).ok());
  EXPECT_EQ(Unplanned(), 0);
  EXPECT_EQ(ActionAt(deps_[0], At(6, 0, 25))->upstream,
            std::vector<ActionId>{ActionAt(roots_[0], At(6, 0, 25))->id});
}

TEST_F(ScheduleTest, MissedTimesFollowThePolicyAfterARestart) {
  const JobId all = AddJob("all", {{"schedule", {{"cron", "0 0 * * * ?"}}}});
  const JobId latest = AddJob("latest", {{"schedule", {{"cron", "0 0 * * * ?"}}},
                                         {"missed_policy", "run_latest"}});
  const JobId skip = AddJob("skip", {{"schedule", {{"cron", "0 0 * * * ?"}}},
                                     {"missed_policy", "skip"}});
  // Hera was down from 10:30 to 13:30: 11:00, 12:00 and 13:00 were missed.
  StoredState state;
  state.groups.push_back(*sched_.catalog().FindGroup(1));
  for (JobId j : {all, latest, skip}) {
    state.jobs.push_back(*sched_.catalog().FindJob(j));
    for (const Action* a : sched_.actions().OfJob(j)) state.unfinished_actions.push_back(*a);
  }
  state.max_ids = {1, 3, 1000, 0};
  Scheduler restarted;
  restarted.AddWorker({"w", 100});
  Effects fx;
  restarted.Restore(state, At(13, 30), &fx);
  restarted.Tick(At(13, 30), &fx);
  restarted.Dispatch(At(13, 30), &fx);
  std::map<JobId, std::vector<absl::Time>> ran;
  for (auto& [w, o] : fx.dispatches) ran[o.job_id].push_back(o.scheduled_time);
  EXPECT_EQ(ran[all], (std::vector<absl::Time>{At(11), At(12), At(13)}));
  EXPECT_EQ(ran[latest], (std::vector<absl::Time>{At(13)}));
  EXPECT_TRUE(ran[skip].empty());
}

}  // namespace
}  // namespace hera::core
