#include "cli/ctl_format.h"

#include <gtest/gtest.h>

namespace hera::cli {
namespace {

TEST(FormatTest, FieldText) {
  const Json j = {{"s", "x"}, {"n", 7}, {"b", true}, {"z", nullptr}, {"o", {{"k", 1}}}};
  EXPECT_EQ(FieldText(j, "s"), "x");
  EXPECT_EQ(FieldText(j, "n"), "7");
  EXPECT_EQ(FieldText(j, "b"), "true");
  EXPECT_EQ(FieldText(j, "z"), "-");
  EXPECT_EQ(FieldText(j, "missing"), "-");
  EXPECT_EQ(FieldText(j, "o"), R"({"k":1})");
  EXPECT_EQ(FieldText(Json(), "s"), "-");
}

TEST(FormatTest, LocalTimeText) {
  const Json j = {{"t", "2026-11-23T08:00:05+08:00"}, {"bad", "yesterday"}, {"n", nullptr}};
  EXPECT_EQ(LocalTimeText(j, "t", absl::UTCTimeZone()), "2026-11-23 00:00:05");
  EXPECT_EQ(LocalTimeText(j, "bad", absl::UTCTimeZone()), "yesterday");
  EXPECT_EQ(LocalTimeText(j, "n", absl::UTCTimeZone()), "-");
}

TEST(FormatTest, DurationText) {
  EXPECT_EQ(DurationText(absl::Milliseconds(400)), "0.4s");
  EXPECT_EQ(DurationText(absl::Seconds(45)), "45s");
  EXPECT_EQ(DurationText(absl::Seconds(185)), "3m05s");
  EXPECT_EQ(DurationText(absl::Hours(2) + absl::Minutes(3)), "2h03m");
  EXPECT_EQ(DurationText(absl::Hours(76)), "3d04h");
  EXPECT_EQ(DurationText(-absl::Seconds(1)), "0.0s");
}

TEST(FormatTest, RunDurationAndExit) {
  const Json done = {{"started_at", "2026-11-23T08:00:00Z"},
                     {"ended_at", "2026-11-23T08:01:30Z"},
                     {"exit_code", 7},
                     {"signal", nullptr}};
  EXPECT_EQ(RunDurationText(done, absl::Now()), "1m30s");
  EXPECT_EQ(RunExitText(done), "7");
  const Json running = {{"started_at", "2026-11-23T08:00:00Z"}, {"ended_at", nullptr}};
  absl::Time now;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2026-11-23T08:00:20Z", &now, nullptr));
  EXPECT_EQ(RunDurationText(running, now), "20s");
  EXPECT_EQ(RunExitText(running), "-");
  EXPECT_EQ(RunDurationText(Json{{"started_at", nullptr}}, now), "-");
  EXPECT_EQ(RunExitText(Json{{"exit_code", nullptr}, {"signal", 9}}), "signal 9");
}

}  // namespace
}  // namespace hera::cli
