// Backfills in the Scheduler: a 3-level DAG over 5 days run through, stopped and resumed.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/scheduler.h"

namespace hera::core {
namespace {

using nlohmann::json;

absl::Time Day(int day, int hour = 0) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, day, hour, 0, 0), absl::UTCTimeZone());
}

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Effects fx;
    ASSERT_TRUE(sched_.CreateGroup({{"name", "etl"}}, "alice", now_, &fx).ok());
    sched_.AddWorker({"w", 100});
    a_ = AddJob("a", {{"schedule", {{"cron", "0 0 1 * * ?"}}}});
    b_ = AddJob("b", {{"schedule", {{"depends_on", {{{"job_id", a_}}}}}}});
    c_ = AddJob("c", {{"schedule", {{"depends_on", {{{"job_id", b_}}}}}}});
  }
  JobId AddJob(const std::string& name, json extra) {
    extra["name"] = name;
    extra["group_id"] = 1;
    extra["script"] = "true";
    extra["enabled"] = true;
    Effects fx;
    auto job = sched_.CreateJob(extra, "alice", now_, &fx);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->id : 0;
  }
  BackfillRequest Request() const {
    return BackfillRequest{{a_}, Day(10), Day(14, 23), /*downstream=*/true};
  }
  // What the store would hold after `fx`: the backfill's header and node rows.
  void Record(const Effects& fx) {
    for (const Backfill& b : fx.batch.backfills) {
      std::vector<BackfillNode> nodes = std::move(stored_.nodes);
      stored_ = b;
      stored_.nodes = std::move(nodes);
    }
    for (const auto& row : fx.batch.backfill_nodes) {
      if (stored_.nodes.size() <= static_cast<size_t>(row.index)) {
        stored_.nodes.resize(row.index + 1);
      }
      stored_.nodes[row.index] = row.node;
    }
  }
  // Dispatches what is queued; records each order.
  void Dispatch(Effects* fx) {
    Record(*fx);
    sched_.Dispatch(now_, fx);
    for (auto& [w, o] : fx->dispatches) {
      in_flight_.insert(o.run_id);
      max_in_flight_ = std::max(max_in_flight_, in_flight_.size());
      started_.push_back(o);
      finished_before_.push_back(finished_.size());
    }
    fx->dispatches.clear();
  }
  // Finishes run `o` with `code`, then dispatches what follows.
  void Finish(const DispatchOrder& o, int code) {
    Effects fx;
    RunResult r;
    r.run_id = o.run_id;
    r.exit_code = code;
    r.ended_at = now_;
    in_flight_.erase(o.run_id);
    finished_.push_back(o);
    sched_.OnRunFinished(r, &fx);
    Dispatch(&fx);
    Record(fx);
    for (const Backfill& b : fx.batch.backfills) last_ = b;
  }
  // Finishes the oldest unfinished order until none is left.
  void Drain() {
    while (finished_.size() < started_.size()) Finish(started_[finished_.size()], 0);
  }

  absl::Time now_ = Day(23, 10);
  Scheduler sched_;
  JobId a_ = 0, b_ = 0, c_ = 0;
  std::vector<DispatchOrder> started_, finished_;
  std::vector<size_t> finished_before_;  // per started order: how many had finished then
  std::set<RunId> in_flight_;
  size_t max_in_flight_ = 0;
  Backfill last_;
  Backfill stored_;
};

TEST_F(BackfillTest, EachActionOfTheDagRunsOnceAfterItsUpstreamsWithinTheParallelism) {
  Effects fx;
  auto bf = sched_.CreateBackfill(Request(), {.parallelism = 2}, "bob", now_, &fx, {});
  ASSERT_TRUE(bf.ok()) << bf.status();
  ASSERT_EQ(bf->nodes.size(), 15u) << "3 jobs x 5 days";
  Dispatch(&fx);
  Drain();
  ASSERT_EQ(started_.size(), 15u);
  std::set<std::pair<JobId, absl::Time>> ran;
  std::set<ActionId> actions;
  std::map<std::pair<JobId, absl::Time>, size_t> finished_at;
  for (size_t i = 0; i < finished_.size(); ++i) {
    finished_at[{finished_[i].job_id, finished_[i].scheduled_time}] = i;
  }
  for (size_t i = 0; i < started_.size(); ++i) {
    const DispatchOrder& o = started_[i];
    EXPECT_TRUE(ran.insert({o.job_id, o.scheduled_time}).second) << "each action once";
    EXPECT_TRUE(actions.insert(o.action_id).second);
    EXPECT_EQ(o.trigger, Trigger::kRerun);
    // Its upstream of the same day finished before it started.
    const JobId up = o.job_id == b_ ? a_ : o.job_id == c_ ? b_ : 0;
    if (up) {
      auto done = finished_at.find({up, o.scheduled_time});
      ASSERT_NE(done, finished_at.end());
      EXPECT_LT(done->second, finished_before_[i]) << "job " << o.job_id << " started early";
    }
  }
  EXPECT_LE(max_in_flight_, 2u) << "parallelism is never exceeded";
  EXPECT_EQ(started_[0].scheduled_time, Day(10, 1)) << "oldest first";
  EXPECT_EQ(last_.status, BackfillStatus::kDone);
}

TEST_F(BackfillTest, ADryRunListsTheActionsAndRunsNothing) {
  Effects fx;
  auto bf = sched_.CreateBackfill(Request(), {.parallelism = 4, .dry_run = true}, "bob", now_,
                                  &fx, {});
  ASSERT_TRUE(bf.ok()) << bf.status();
  EXPECT_EQ(bf->nodes.size(), 15u);
  EXPECT_EQ(bf->id, 0);
  EXPECT_TRUE(fx.batch.empty());
  sched_.Dispatch(now_, &fx);
  EXPECT_TRUE(fx.dispatches.empty());
  // Nodes link to their upstream of the same day.
  for (const BackfillNode& n : bf->nodes) {
    if (n.job_id == a_) {
      EXPECT_TRUE(n.upstream.empty());
      continue;
    }
    ASSERT_EQ(n.upstream.size(), 1u);
    EXPECT_EQ(bf->nodes[n.upstream[0]].time, n.time);
  }
}

TEST_F(BackfillTest, AStopAndAResumeRunNothingTwice) {
  Effects fx;
  auto bf = sched_.CreateBackfill(Request(), {.parallelism = 3}, "bob", now_, &fx, {});
  ASSERT_TRUE(bf.ok()) << bf.status();
  Dispatch(&fx);
  Finish(started_[0], 0);
  // Another backfill over the same actions is refused while this one runs.
  Effects refused;
  auto twice = sched_.CreateBackfill(Request(), {}, "eve", now_, &refused, {});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find(absl::StrCat("backfill ", bf->id)), std::string::npos);

  Effects stop;
  auto stopped = sched_.StopBackfill(bf->id, now_, &stop);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  Dispatch(&stop);
  Drain();  // what was running finishes; nothing new starts
  const size_t before_resume = started_.size();
  Effects resume;
  EXPECT_EQ(stored_.status, BackfillStatus::kStopped);
  auto resumed = sched_.ResumeBackfill(stored_, /*retry_failed=*/false, now_, &resume, {});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  Dispatch(&resume);
  Drain();
  EXPECT_GT(started_.size(), before_resume);
  std::set<std::pair<JobId, absl::Time>> ran;
  for (const DispatchOrder& o : started_) {
    EXPECT_TRUE(ran.insert({o.job_id, o.scheduled_time}).second)
        << "ran twice: job " << o.job_id;
  }
  EXPECT_EQ(ran.size(), 15u);
  EXPECT_EQ(last_.status, BackfillStatus::kDone);
}

TEST_F(BackfillTest, AFailureHoldsWhatIsBelowItUntilTheFailedOnesRunAgain) {
  Effects fx;
  auto bf = sched_.CreateBackfill(BackfillRequest{{a_}, Day(10), Day(10, 23), true},
                                  {.parallelism = 2}, "bob", now_, &fx, {});
  ASSERT_TRUE(bf.ok()) << bf.status();
  Dispatch(&fx);
  ASSERT_EQ(started_.size(), 1u);
  Finish(started_[0], 1);  // a fails: b and c wait
  EXPECT_EQ(started_.size(), 1u);
  EXPECT_EQ(last_.status, BackfillStatus::kDone);
  Effects retry;
  EXPECT_EQ(stored_.nodes[0].state, NodeState::kFailed);
  auto again = sched_.ResumeBackfill(stored_, /*retry_failed=*/true, now_, &retry, {});
  ASSERT_TRUE(again.ok()) << again.status();
  Dispatch(&retry);
  Drain();
  EXPECT_EQ(started_.size(), 4u) << "a again, then b and c";
}

}  // namespace
}  // namespace hera::core

namespace hera::core {
namespace {

TEST(BackfillDisabledTest, DisabledJobsRunThroughToo) {
  Scheduler s;
  const absl::Time now = Day(23, 10);
  Effects fx;
  ASSERT_TRUE(s.CreateGroup({{"name", "etl"}}, "a", now, &fx).ok());
  s.AddWorker({"w", 100});
  auto up = s.CreateJob({{"name", "up"}, {"group_id", 1}, {"script", "true"},
                         {"schedule", {{"cron", "0 0 2 * * ?"}}}}, "a", now, &fx);
  ASSERT_TRUE(up.ok());
  auto down = s.CreateJob({{"name", "down"}, {"group_id", 1}, {"script", "true"},
                           {"schedule", {{"depends_on", {{{"job_id", up->id}}}}}}}, "a", now, &fx);
  ASSERT_TRUE(down.ok());
  Effects c;
  auto bf = s.CreateBackfill({{up->id}, Day(1), Day(3, 23), true}, {.parallelism = 2}, "a", now,
                             &c, {});
  ASSERT_TRUE(bf.ok()) << bf.status();
  ASSERT_EQ(bf->nodes.size(), 6u);
  std::vector<DispatchOrder> pending;
  s.Dispatch(now, &c);
  for (auto& [w, o] : c.dispatches) pending.push_back(o);
  int ran = 0;
  Backfill last;
  while (!pending.empty()) {
    DispatchOrder o = pending.front();
    pending.erase(pending.begin());
    ++ran;
    Effects f;
    s.OnRunStarted(o.run_id, "w", now, &f);
    RunResult r;
    r.run_id = o.run_id;
    r.exit_code = 0;
    r.ended_at = now;
    s.OnRunFinished(r, &f);
    s.Dispatch(now, &f);
    for (auto& [w, d] : f.dispatches) pending.push_back(d);
    for (const Backfill& b : f.batch.backfills) last = b;
  }
  EXPECT_EQ(ran, 6);
  EXPECT_EQ(last.status, BackfillStatus::kDone);
}

}  // namespace
}  // namespace hera::core
