#pragma once
// A scheduler with one group ("etl", id 1) and helpers to add jobs and start manual runs at a
// fixed time: the common ground of the scheduler's unit tests.

#include <gtest/gtest.h>

#include <string>

#include "core/scheduler.h"

namespace hera::core::testing {

inline const absl::Time kFixtureNow = absl::FromUnixSeconds(1790000000);

class SchedulerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    Effects fx;
    ASSERT_TRUE(sched_.CreateGroup({{"name", "etl"}}, "alice", kFixtureNow, &fx).ok());
  }
  // Creates a shell job `true` in group 1 with `extra` fields; returns its id.
  JobId AddJob(const std::string& name, nlohmann::json extra = nlohmann::json::object()) {
    extra["name"] = name;
    extra["group_id"] = 1;
    extra["script"] = "true";
    Effects fx;
    auto job = sched_.CreateJob(extra, "alice", kFixtureNow, &fx);
    EXPECT_TRUE(job.ok()) << job.status();
    return job->id;
  }
  // Runs job `job` by hand now; returns the run's id.
  RunId StartRun(JobId job, Effects* fx) {
    auto t = sched_.RunJob(job, Trigger::kManual, "alice", kFixtureNow, fx);
    EXPECT_TRUE(t.ok()) << t.status();
    return t->run_id;
  }
  // The result of a run that exited with `code` at `at`.
  static RunResult Exit(RunId id, int code, absl::Time at = kFixtureNow + absl::Seconds(1)) {
    RunResult r;
    r.run_id = id;
    r.exit_code = code;
    r.ended_at = at;
    return r;
  }
  Scheduler sched_;
};

}  // namespace hera::core::testing
