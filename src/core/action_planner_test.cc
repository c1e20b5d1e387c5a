#include "core/action_planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace hera::core {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(AsAbsl(name), &tz)) << name;
  return tz;
}

// "2026-11-23 08:00" in `tz`.
absl::Time At(const std::string& civil, const absl::TimeZone& tz) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%d %H:%M", AsAbsl(civil), tz, &t, &err)) << civil << err;
  return t;
}

// A job from a one-line spec, in the spirit of ninja's two-line manifests:
//   "<id> [cron=<expr, '_' for spaces>] [tz=<zone>] [after=<id>[:<period>]]... [self] [disabled]"
Job ParseJob(const std::string& spec) {
  Job job;
  job.enabled = true;
  const std::vector<std::string> words = absl::StrSplit(spec, ' ', absl::SkipEmpty());
  job.id = std::stoll(words.at(0));
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    const std::pair<std::string, std::string> kv = absl::StrSplit(w, absl::MaxSplits('=', 1));
    if (kv.first == "cron") {
      job.schedule.cron = kv.second;
      std::replace(job.schedule.cron.begin(), job.schedule.cron.end(), '_', ' ');
    } else if (kv.first == "tz") {
      job.schedule.timezone = kv.second;
    } else if (kv.first == "after") {
      const std::pair<std::string, std::string> dep =
          absl::StrSplit(kv.second, absl::MaxSplits(':', 1));
      Dependency d{std::stoll(dep.first), DependencyPeriod::kNearest};
      if (!dep.second.empty()) {
        const auto period = ParseDependencyPeriod(dep.second);
        EXPECT_TRUE(period.has_value()) << dep.second;
        d.period = period.value_or(DependencyPeriod::kNearest);
      }
      job.schedule.depends_on.push_back(d);
    } else if (w == "self") {
      job.schedule.self_dependency = true;
    } else if (w == "disabled") {
      job.enabled = false;
    } else {
      ADD_FAILURE() << "bad spec word " << w;
    }
  }
  return job;
}

// "2 11-23 09:00 <- 1 11-23 04:00, 3 11-22 20:00 | waiting for ..." in `tz`.
std::string Render(const PlannedAction& a, const absl::TimeZone& tz) {
  const auto key = [&tz](const ActionKey& k) {
    return absl::StrCat(k.job, " ", absl::FormatTime("%m-%d %H:%M", k.time, tz));
  };
  std::string out = key(a.key);
  if (!a.upstream.empty()) {
    absl::StrAppend(&out, " <- ",
                    absl::StrJoin(a.upstream, ", ",
                                  [&](std::string* o, const ActionKey& k) { o->append(key(k)); }));
  }
  if (!a.blocked_reason.empty()) absl::StrAppend(&out, " | ", a.blocked_reason);
  return out;
}

struct Fixture {
  std::vector<Job> jobs;
  PlanInput in;
};

Fixture Make(const std::vector<std::string>& specs, const std::string& from, const std::string& to,
             const std::string& zone = "Asia/Shanghai",
             const std::map<JobId, std::vector<std::string>>& existing = {}) {
  Fixture f;
  for (const std::string& s : specs) f.jobs.push_back(ParseJob(s));
  for (const Job& j : f.jobs) f.in.jobs.push_back(&j);
  f.in.default_tz = Zone(zone);
  f.in.from = At(from, f.in.default_tz);
  f.in.to = At(to, f.in.default_tz);
  for (const auto& [job, times] : existing) {
    for (const std::string& t : times) f.in.existing[job].push_back(At(t, f.in.default_tz));
  }
  return f;
}

struct PlanCase {
  const char* name;
  std::vector<std::string> jobs;
  const char* from;
  const char* to;
  std::map<JobId, std::vector<std::string>> existing;  // civil times in Asia/Shanghai
  std::set<JobId> show;                                // empty: every job
  std::vector<std::string> want;                       // Render()ed, in Asia/Shanghai
};

// Every case plans in Asia/Shanghai (no daylight saving) unless a job names its zone;
// 2026-11-23 is a Monday.
// clang-format off
const PlanCase kCases[] = {
    {"timed daily over two days",
     {"1 cron=0_0_2_*_*_?"}, "2026-11-23 00:00", "2026-11-25 00:00", {}, {},
     {"1 11-23 02:00", "1 11-24 02:00"}},
    {"window is half-open",
     {"1 cron=0_0_*/6_*_*_?"}, "2026-11-23 06:00", "2026-11-23 18:00", {}, {},
     {"1 11-23 06:00", "1 11-23 12:00"}},
    {"manual-only and disabled jobs get nothing",
     {"1", "2 cron=0_0_2_*_*_? disabled"}, "2026-11-23 00:00", "2026-11-24 00:00", {}, {}, {}},
    {"dependent on one daily upstream",
     {"1 cron=0_0_2_*_*_?", "2 after=1"}, "2026-11-23 00:00", "2026-11-25 00:00", {}, {2},
     {"2 11-23 02:00 <- 1 11-23 02:00", "2 11-24 02:00 <- 1 11-24 02:00"}},
    {"base is the upstream with fewest actions; nearest tie takes the earlier",
     {"1 cron=0_0_*_*_*_?", "2 cron=0_30_5_*_*_?", "3 after=1 after=2"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {3},
     {"3 11-23 05:30 <- 1 11-23 05:00, 2 11-23 05:30"}},
    {"equal counts: the later first action is the base",
     {"1 cron=0_0_1_*_*_?", "2 cron=0_0_3_*_*_?", "3 after=1 after=2"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {3},
     {"3 11-23 03:00 <- 1 11-23 01:00, 2 11-23 03:00"}},
    {"equal counts: the tie does not depend on ids",
     {"1 cron=0_0_3_*_*_?", "2 cron=0_0_1_*_*_?", "3 after=2 after=1"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {3},
     {"3 11-23 03:00 <- 1 11-23 03:00, 2 11-23 01:00"}},
    {"equal counts of two a day",
     {"1 cron=0_0_1,13_*_*_?", "2 cron=0_0_2,14_*_*_?", "3 after=1 after=2"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {3},
     {"3 11-23 02:00 <- 1 11-23 01:00, 2 11-23 02:00",
      "3 11-23 14:00 <- 1 11-23 13:00, 2 11-23 14:00"}},
    {"counts cover the whole day, outside the window too",
     // In the window 1 has 3 actions, 2 has 4; over the whole day 1 has 6, so 2 is the base.
     {"1 cron=0_0_*/4_*_*_?", "2 cron=0_0_10,11,21,22_*_*_?", "3 after=1 after=2"},
     "2026-11-23 09:00", "2026-11-24 00:00", {{1, {"2026-11-23 00:00", "2026-11-23 04:00",
                                                   "2026-11-23 08:00"}}},
     {3},
     {"3 11-23 10:00 <- 1 11-23 08:00, 2 11-23 10:00",
      "3 11-23 11:00 <- 1 11-23 12:00, 2 11-23 11:00",
      "3 11-23 21:00 <- 1 11-23 20:00, 2 11-23 21:00",
      "3 11-23 22:00 <- 1 11-23 20:00, 2 11-23 22:00"}},
    {"a nearest edge is preferred as the base over other periods",
     {"1 cron=0_0_*/6_*_*_?", "2 cron=0_0_5_*_*_?", "3 after=1 after=2:latest_before"},
     "2026-11-23 00:00", "2026-11-24 00:00", {{2, {"2026-11-22 05:00"}}}, {3},
     {"3 11-23 00:00 <- 1 11-23 00:00, 2 11-22 05:00",
      "3 11-23 06:00 <- 1 11-23 06:00, 2 11-23 05:00",
      "3 11-23 12:00 <- 1 11-23 12:00, 2 11-23 05:00",
      "3 11-23 18:00 <- 1 11-23 18:00, 2 11-23 05:00"}},
    {"each period",
     {"1 cron=0_0_8,12,20_*_*_?",
      "2 cron=0_30_10_*_*_? after=1",
      "3 cron=0_30_10_*_*_? after=1:all_of_day",
      "4 cron=0_30_10_*_*_? after=1:latest_before",
      "5 cron=0_0_12_*_*_? after=1:latest_before",
      "6 cron=0_30_10_*_*_? after=1:previous_day",
      "7 cron=0_0_7_*_*_? after=1:latest_before"},
     "2026-11-23 00:00", "2026-11-24 00:00",
     {{1, {"2026-11-22 08:00", "2026-11-22 12:00", "2026-11-22 20:00"}}}, {2, 3, 4, 5, 6, 7},
     {"2 11-23 10:30 <- 1 11-23 12:00",
      "3 11-23 10:30 <- 1 11-23 08:00, 1 11-23 12:00, 1 11-23 20:00",
      "4 11-23 10:30 <- 1 11-23 08:00",
      "5 11-23 12:00 <- 1 11-23 12:00",
      "6 11-23 10:30 <- 1 11-22 20:00",
      "7 11-23 07:00 <- 1 11-22 20:00"}},
    {"periods with nothing to match are blocked and say why",
     {"1 cron=0_0_8_*_*_?",
      "4 cron=0_0_7_*_*_? after=1:latest_before",
      "6 cron=0_30_10_*_*_? after=1:previous_day"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {4, 6},
     {"4 11-23 07:00 | waiting for job 1: no action at or before 2026-11-23 07:00:00",
      "6 11-23 10:30 | waiting for job 1: no action on 2026-11-22"}},
    {"self_dependency across the window start",
     {"1 cron=0_0_*/6_*_*_? self"}, "2026-11-23 00:00", "2026-11-23 12:00",
     {{1, {"2026-11-22 12:00", "2026-11-22 18:00"}}}, {},
     {"1 11-23 00:00 <- 1 11-22 18:00", "1 11-23 06:00 <- 1 11-23 00:00"}},
    {"self_dependency without history: the first waits for nothing",
     {"1 cron=0_0_*/6_*_*_? self"}, "2026-11-23 00:00", "2026-11-23 12:00", {}, {},
     {"1 11-23 00:00", "1 11-23 06:00 <- 1 11-23 00:00"}},
    {"a missing upstream action blocks with its date",
     {"1 cron=0_0_0_?_*_MON", "2 cron=0_0_9_*_*_? after=1"},
     "2026-11-23 00:00", "2026-11-25 00:00", {}, {2},
     {"2 11-23 09:00 <- 1 11-23 00:00",
      "2 11-24 09:00 | waiting for job 1: no action on 2026-11-24"}},
    {"without a cron, an upstream idle that day blocks, it is not the base",
     {"1 cron=0_0_0_?_*_MON", "4 cron=0_0_6_*_*_?", "3 after=1 after=4"},
     "2026-11-23 00:00", "2026-11-25 00:00", {}, {3},
     {"3 11-23 06:00 <- 1 11-23 00:00, 4 11-23 06:00",
      "3 11-24 06:00 <- 4 11-24 06:00 | waiting for job 1: no action on 2026-11-24"}},
    {"without a cron, a day on which no upstream acts has no action",
     {"1 cron=0_0_0_?_*_MON", "2 after=1"}, "2026-11-23 00:00", "2026-11-25 00:00", {}, {2},
     {"2 11-23 00:00 <- 1 11-23 00:00"}},
    {"cron and upstreams: own times, nearest on the same day",
     {"1 cron=0_0_2_*_*_?", "2 cron=0_0_*/8_*_*_? after=1"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {2},
     {"2 11-23 00:00 <- 1 11-23 02:00", "2 11-23 08:00 <- 1 11-23 02:00",
      "2 11-23 16:00 <- 1 11-23 02:00"}},
    {"a disabled upstream",
     {"1 cron=0_0_2_*_*_? disabled", "2 cron=0_0_3_*_*_? after=1"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {},
     {"2 11-23 03:00 | waiting for job 1 (disabled): no action on 2026-11-23"}},
    {"an upstream that is not planned is followed through its existing actions",
     {"2 after=9"}, "2026-11-23 00:00", "2026-11-24 00:00",
     {{9, {"2026-11-23 05:00"}}}, {},
     {"2 11-23 05:00 <- 9 11-23 05:00"}},
    {"unsorted and repeated existing times are tolerated",
     {"2 after=9"}, "2026-11-23 00:00", "2026-11-24 00:00",
     {{9, {"2026-11-23 07:00", "2026-11-23 05:00", "2026-11-23 05:00"}}}, {},
     {"2 11-23 05:00 <- 9 11-23 05:00", "2 11-23 07:00 <- 9 11-23 07:00"}},
    {"existing upstream actions are followed after its cron changed",
     {"1 cron=0_0_4_*_*_?", "2 after=1"}, "2026-11-23 00:00", "2026-11-24 00:00",
     {{1, {"2026-11-23 02:00"}}}, {2},
     {"2 11-23 02:00 <- 1 11-23 02:00", "2 11-23 04:00 <- 1 11-23 04:00"}},
    {"days are civil days of the downstream's zone",
     // 20:00 UTC is 04:00 the next day in Shanghai.
     {"1 cron=0_0_20_*_*_? tz=UTC", "2 cron=0_0_9_*_*_? after=1"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {},
     {"1 11-23 04:00", "2 11-23 09:00 <- 1 11-23 04:00"}},
    {"two edges to one upstream link both ways",
     {"1 cron=0_0_8,20_*_*_?", "2 cron=0_0_12_*_*_? after=1 after=1:all_of_day"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {2},
     {"2 11-23 12:00 <- 1 11-23 08:00, 1 11-23 20:00"}},
    {"a diamond",
     {"1 cron=0_0_2_*_*_?", "2 after=1", "3 after=1", "4 after=3 after=2"},
     "2026-11-23 00:00", "2026-11-24 00:00", {}, {},
     {"1 11-23 02:00", "2 11-23 02:00 <- 1 11-23 02:00", "3 11-23 02:00 <- 1 11-23 02:00",
      "4 11-23 02:00 <- 2 11-23 02:00, 3 11-23 02:00"}},
};
// clang-format on

TEST(ActionPlannerTest, Cases) {
  const absl::TimeZone shanghai = Zone("Asia/Shanghai");
  for (const PlanCase& c : kCases) {
    SCOPED_TRACE(c.name);
    Fixture f = Make(c.jobs, c.from, c.to, "Asia/Shanghai", c.existing);
    const auto plan = PlanActions(f.in);
    ASSERT_TRUE(plan.ok()) << plan.status();
    std::vector<std::string> got;
    for (const PlannedAction& a : *plan) {
      if (c.show.empty() || c.show.contains(a.key.job)) got.push_back(Render(a, shanghai));
    }
    EXPECT_THAT(got, ElementsAreArray(c.want));
  }
}

struct CountCase {
  const char* name;
  const char* cron;
  const char* zone;
  const char* day;  // plans [day 00:00, next day 00:00) in `zone`
  size_t want;
};

TEST(ActionPlannerTest, TimedJobsOverADayInTheirZone) {
  const CountCase cases[] = {
      {"hourly Shanghai", "0 0 * * * ?", "Asia/Shanghai", "2026-11-23", 24},
      {"daily Shanghai", "0 0 2 * * ?", "Asia/Shanghai", "2026-11-23", 1},
      {"hourly New York", "0 0 * * * ?", "America/New_York", "2026-06-01", 24},
      {"hourly New York spring forward", "0 0 * * * ?", "America/New_York", "2026-03-08", 23},
      {"hourly New York fall back", "0 0 * * * ?", "America/New_York", "2026-11-01", 25},
      {"fixed 01:30 New York fall back: first pass only", "0 30 1 * * ?", "America/New_York",
       "2026-11-01", 1},
      {"unix every 15 min New York fall back", "*/15 * * * *", "America/New_York", "2026-11-01",
       100},
  };
  for (const CountCase& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::TimeZone tz = Zone(c.zone);
    Job job;
    job.id = 1;
    job.enabled = true;
    job.schedule.cron = c.cron;
    job.schedule.timezone = c.zone;
    PlanInput in;
    in.jobs = {&job};
    in.default_tz = absl::UTCTimeZone();  // the job's own zone must win
    absl::CivilDay day;
    ASSERT_TRUE(absl::ParseCivilTime(c.day, &day));
    in.from = tz.At(absl::CivilSecond(day)).pre;
    in.to = tz.At(absl::CivilSecond(day + 1)).pre;
    const auto plan = PlanActions(in);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->size(), c.want);
  }
}

TEST(ActionPlannerTest, DailyInASpringForwardGapFiresAfterTheGap) {
  Fixture f =
      Make({"1 cron=0_30_2_*_*_?"}, "2026-03-08 00:00", "2026-03-09 00:00", "America/New_York");
  const auto plan = PlanActions(f.in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ((*plan)[0].key.time, absl::FromUnixSeconds(1772953200)) << "03:00 EDT = 07:00Z";
}

TEST(ActionPlannerTest, DependentFollowsAllPassesOfAFallBackDay) {
  // The downstream's day in New York has 25 hours, so all 25 upstream actions are its.
  Fixture f = Make({"1 cron=0_0_*_*_*_?", "2 after=1"}, "2026-11-01 00:00", "2026-11-02 00:00",
                   "America/New_York");
  const auto plan = PlanActions(f.in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 50u);
  for (size_t i = 0; i < 25; ++i) {
    const PlannedAction& a = (*plan)[25 + i];
    EXPECT_EQ(a.key.job, 2);
    EXPECT_EQ(a.upstream, (std::vector<ActionKey>{{1, a.key.time}}));
    EXPECT_EQ(a.blocked_reason, "");
  }
}

TEST(ActionPlannerTest, TenDeepChain) {
  std::vector<std::string> specs = {"1 cron=0_0_*_*_*_?"};
  for (int i = 2; i <= 11; ++i) specs.push_back(absl::StrCat(i, " after=", i - 1));
  std::reverse(specs.begin(), specs.end());  // order in the input does not matter
  Fixture f = Make(specs, "2026-11-23 00:00", "2026-11-24 00:00");
  const auto plan = PlanActions(f.in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 11u * 24);
  for (size_t i = 24; i < plan->size(); ++i) {
    const PlannedAction& a = (*plan)[i];
    EXPECT_EQ(a.key.job, static_cast<JobId>(i / 24 + 1));
    EXPECT_EQ(a.key.time, (*plan)[i % 24].key.time);
    EXPECT_EQ(a.upstream, (std::vector<ActionKey>{{a.key.job - 1, a.key.time}}));
  }
}

TEST(ActionPlannerTest, DeterministicWhateverTheInputOrder) {
  std::vector<std::string> specs = {"1 cron=0_0_*_*_*_?",
                                    "2 cron=0_30_5,17_*_*_?",
                                    "3 after=1 after=2",
                                    "4 after=3 self",
                                    "5 cron=0_0_9_*_*_? after=4:all_of_day after=2:previous_day",
                                    "6 after=5 after=1:latest_before"};
  Fixture f = Make(specs, "2026-11-23 00:00", "2026-11-25 00:00");
  const auto first = PlanActions(f.in);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(std::is_sorted(first->begin(), first->end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(f.in.jobs.begin(), f.in.jobs.end(), rng);
    const auto again = PlanActions(f.in);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, *first);
  }
}

TEST(ActionPlannerTest, CycleIsAnErrorNamingIt) {
  Fixture f = Make({"1 after=3", "2 after=1", "3 after=2", "4 cron=0_0_2_*_*_?"},
                   "2026-11-23 00:00", "2026-11-24 00:00");
  const auto plan = PlanActions(f.in);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plan.status().message(), "jobs form a cycle: 1 → 3 → 2 → 1");
}

TEST(ActionPlannerTest, ACycleThroughADisabledJobIsNotPlanned) {
  Fixture f = Make({"1 cron=0_0_2_*_*_? after=2", "2 after=1 disabled"}, "2026-11-23 00:00",
                   "2026-11-24 00:00");
  const auto plan = PlanActions(f.in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_THAT((*plan)[0].blocked_reason, HasSubstr("job 2 (disabled)"));
}

struct ErrorCase {
  const char* name;
  std::vector<std::string> jobs;
  absl::StatusCode code;
  const char* substr;
};

TEST(ActionPlannerTest, Errors) {
  const ErrorCase cases[] = {
      {"bad cron names the job",
       {"1 cron=0_0_2_*_*_?", "4 cron=0_0_25_*_*_?"},
       absl::StatusCode::kInvalidArgument,
       "job 4: cron \"0 0 25 * * ?\": hour"},
      {"unknown zone",
       {"4 cron=0_0_2_*_*_? tz=Mars/Olympus"},
       absl::StatusCode::kInvalidArgument,
       "job 4: unknown time zone \"Mars/Olympus\""},
      {"repeated id",
       {"4 cron=0_0_2_*_*_?", "4 disabled"},
       absl::StatusCode::kInvalidArgument,
       "job 4 is listed twice"},
      {"too many actions",
       {"4 cron=*_*_*_*_*_?"},
       absl::StatusCode::kResourceExhausted,
       "job 4: cron \"* * * * * ?\" fires more than 100000 times"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f = Make(c.jobs, "2026-11-23 00:00", "2026-11-25 00:00");
    const auto plan = PlanActions(f.in);
    ASSERT_FALSE(plan.ok());
    EXPECT_EQ(plan.status().code(), c.code);
    EXPECT_THAT(std::string(plan.status().message()), HasSubstr(c.substr));
  }
}

TEST(ActionPlannerTest, ErrorsOfASharedCronNameEachJob) {
  Fixture f = Make({"7 cron=bad", "8 cron=bad"}, "2026-11-23 00:00", "2026-11-24 00:00");
  auto plan = PlanActions(f.in);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("job 7"));
  f.jobs[0].enabled = false;
  plan = PlanActions(f.in);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("job 8"));
}

}  // namespace
}  // namespace hera::core
