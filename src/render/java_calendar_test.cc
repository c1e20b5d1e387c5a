#include "render/java_calendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/time_format.h"
#include "render/test_util.h"

namespace hera::render {
namespace {

using ::hera::render::testing::At;
using ::hera::render::testing::Zone;
using ::testing::HasSubstr;

// One step on a calendar: 'a'dd, 's'et.
struct Op {
  char kind;
  int field;
  int n;
};

// The calendar's time after `ops`, as ISO text in the zone, or the error message.
std::string RunOps(const std::string& start, const std::string& zone, const std::vector<Op>& ops) {
  const absl::TimeZone tz = Zone(zone);
  JavaCalendar cal(At(start, zone), tz);
  for (const Op& op : ops) {
    const absl::Status s = op.kind == 'a' ? cal.Add(op.field, op.n) : cal.Set(op.field, op.n);
    if (!s.ok()) return std::string(s.message());
  }
  const absl::StatusOr<int64_t> ms = cal.UnixMillis();
  if (!ms.ok()) return std::string(ms.status().message());
  return FormatIsoTime(absl::FromUnixMillis(*ms), tz);
}

// Expected values are OpenJDK 17's Calendar.getInstance(zone, Locale.US) after the same calls.
TEST(JavaCalendarTest, MatchesJava) {
  constexpr const char* kNewYork = "America/New_York";
  struct Case {
    const char* start;
    std::vector<Op> ops;
    const char* want;
    const char* zone = "Asia/Shanghai";
  };
  const std::vector<Case> cases = {
      // add(MONTH) pins the day to the new month's length, leap years included.
      {"2024-03-31T02:00:00", {{'a', kMonth, -1}}, "2024-02-29T02:00:00+08:00"},
      {"2023-03-31T02:00:00", {{'a', kMonth, -1}}, "2023-02-28T02:00:00+08:00"},
      {"2024-01-31T08:00:00", {{'a', kMonth, 1}}, "2024-02-29T08:00:00+08:00"},
      {"2024-01-31T08:00:00", {{'a', kMonth, -13}}, "2022-12-31T08:00:00+08:00"},
      {"2024-02-29T10:00:00", {{'a', kYear, 1}}, "2025-02-28T10:00:00+08:00"},
      {"2024-02-29T10:00:00", {{'a', kYear, 4}}, "2028-02-29T10:00:00+08:00"},
      // Lenient set: out-of-range values roll over.
      {"2023-02-10T08:00:00", {{'s', kDayOfMonth, 31}}, "2023-03-03T08:00:00+08:00"},
      {"2024-02-10T08:00:00", {{'s', kDayOfMonth, 31}}, "2024-03-02T08:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'s', kDayOfMonth, 0}}, "2024-02-29T10:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'s', kMonth, 12}}, "2025-01-13T10:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'s', kHourOfDay, 24}}, "2024-03-14T00:00:00+08:00"},
      // Sets resolve together on the next read: Jan 31 with month set to February is Mar 2
      // unless the day is set too, in either order.
      {"2024-01-31T08:00:00", {{'s', kMonth, 1}}, "2024-03-02T08:00:00+08:00"},
      {"2024-01-31T08:00:00",
       {{'s', kMonth, 1}, {'s', kDayOfMonth, 1}},
       "2024-02-01T08:00:00+08:00"},
      {"2024-01-31T08:00:00",
       {{'s', kDayOfMonth, 1}, {'s', kMonth, 1}},
       "2024-02-01T08:00:00+08:00"},
      // First and last day of the month.
      {"2024-03-15T08:00:00",
       {{'s', kDayOfMonth, 1}, {'a', kDayOfYear, -1}},
       "2024-02-29T08:00:00+08:00"},
      {"2024-03-15T08:00:00",
       {{'a', kMonth, 1}, {'s', kDayOfMonth, 1}, {'a', kDayOfYear, -1}},
       "2024-03-31T08:00:00+08:00"},
      // DAY_OF_WEEK moves within the week (Sunday first), DAY_OF_YEAR within the year.
      {"2024-03-13T10:00:00", {{'s', kDayOfWeek, 2}}, "2024-03-11T10:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'s', kDayOfWeek, 1}}, "2024-03-10T10:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'s', kDayOfYear, 1}}, "2024-01-01T10:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'s', kHour, 3}, {'s', kAmPm, 1}}, "2024-03-13T15:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'a', kWeekOfYear, -1}}, "2024-03-06T10:00:00+08:00"},
      {"2024-03-13T10:00:00", {{'a', kAmPm, 3}}, "2024-03-14T22:00:00+08:00"},
      {"2024-12-31T23:59:59", {{'a', kSecond, 1}}, "2025-01-01T00:00:00+08:00"},
      // DST in New York. Days keep the wall-clock time; hours are elapsed time.
      {"2024-03-09T12:00:00", {{'a', kDayOfYear, 1}}, "2024-03-10T12:00:00-04:00", kNewYork},
      {"2024-03-09T12:00:00", {{'a', kHourOfDay, 24}}, "2024-03-10T13:00:00-04:00", kNewYork},
      // Into the spring-forward gap: add keeps the old offset when the corrected time would
      // change the date; set and add(MONTH) read the wall time with the pre-gap offset.
      {"2024-03-09T02:30:00", {{'a', kDayOfYear, 1}}, "2024-03-10T01:30:00-05:00", kNewYork},
      {"2024-03-11T02:30:00", {{'a', kDayOfYear, -1}}, "2024-03-10T03:30:00-04:00", kNewYork},
      {"2024-03-10T00:30:00", {{'s', kHourOfDay, 2}}, "2024-03-10T03:30:00-04:00", kNewYork},
      {"2024-02-10T02:30:00", {{'a', kMonth, 1}}, "2024-03-10T03:30:00-04:00", kNewYork},
      // Into the fall-back overlap: add keeps the side it came from; set takes standard time.
      {"2024-11-02T01:30:00", {{'a', kDayOfYear, 1}}, "2024-11-03T01:30:00-04:00", kNewYork},
      {"2024-11-04T01:30:00", {{'a', kDayOfYear, -1}}, "2024-11-03T01:30:00-05:00", kNewYork},
      {"2024-11-03T00:30:00", {{'s', kHourOfDay, 1}}, "2024-11-03T01:30:00-05:00", kNewYork},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RunOps(c.start, c.zone, c.ops), c.want) << c.start << " " << c.zone;
  }
}

TEST(JavaCalendarTest, GetReturnsJavaFields) {
  JavaCalendar cal(At("2024-03-01T13:05:09.007", "Asia/Shanghai"), Zone("Asia/Shanghai"));
  const std::vector<std::pair<int, int64_t>> want = {
      {kEra, 1},        {kYear, 2024},     {kMonth, 2},
      {kWeekOfYear, 9}, {kWeekOfMonth, 1}, {kDayOfMonth, 1},
      {kDayOfYear, 61}, {kDayOfWeek, 6},   {kDayOfWeekInMonth, 1},
      {kAmPm, 1},       {kHour, 1},        {kHourOfDay, 13},
      {kMinute, 5},     {kSecond, 9},      {kMillisecond, 7},
  };
  for (const auto& [field, value] : want) {
    const absl::StatusOr<int64_t> got = cal.Get(field);
    ASSERT_TRUE(got.ok()) << JavaFieldName(field) << ": " << got.status();
    EXPECT_EQ(*got, value) << JavaFieldName(field);
  }
}

TEST(JavaCalendarTest, WeekYearAtYearEnd) {
  const absl::TimeZone tz = Zone("UTC");
  // Sunday 2024-12-29 starts the week holding 2025-01-01: week 1 of 2025.
  JavaFields f = ComputeJavaFields(absl::ToUnixMillis(At("2024-12-29T00:00:00Z", "UTC")), tz);
  EXPECT_EQ(f[kWeekOfYear], 1);
  EXPECT_EQ(f.week_year, 2025);
  // 2022-01-01 is a Saturday, alone in week 1 of 2022.
  f = ComputeJavaFields(absl::ToUnixMillis(At("2022-01-01T00:00:00Z", "UTC")), tz);
  EXPECT_EQ(f[kWeekOfYear], 1);
  EXPECT_EQ(f.week_year, 2022);
}

TEST(JavaCalendarTest, RejectsWhatJavaRejectsAndWhatWeDoNotSupport) {
  JavaCalendar cal(At("2024-03-01T00:00:00", "UTC"), Zone("UTC"));
  EXPECT_THAT(std::string(cal.Add(kZoneOffset, 1).message()), HasSubstr("ZONE_OFFSET"));
  EXPECT_THAT(std::string(cal.Add(17, 1).message()), HasSubstr("no Calendar field 17"));
  EXPECT_TRUE(cal.Add(17, 0).ok());  // Java ignores a zero amount before checking the field
  EXPECT_THAT(std::string(cal.Set(kEra, 0).message()), HasSubstr("setting Calendar field 0 (ERA)"));
  EXPECT_THAT(std::string(cal.Set(-1, 0).message()), HasSubstr("no Calendar field -1"));
  EXPECT_THAT(std::string(cal.Get(kDstOffset).status().message()), HasSubstr("DST_OFFSET"));
  EXPECT_THAT(std::string(cal.Get(99).status().message()), HasSubstr("no Calendar field 99"));
}

TEST(JavaCalendarTest, YearsOutsideTheSupportedRangeAreErrors) {
  EXPECT_EQ(RunOps("2024-03-01T00:00:00", "UTC", {{'a', kYear, 8000}}),
            "year 10024 is outside the supported 1900-9999");
  EXPECT_EQ(RunOps("2024-03-01T00:00:00", "UTC", {{'s', kYear, 1800}}),
            "year 1800 is outside the supported 1900-9999");
  EXPECT_EQ(RunOps("2024-03-01T00:00:00", "UTC", {{'s', kDayOfMonth, 2147483647}}),
            "year 5881634 is outside the supported 1900-9999");
  EXPECT_EQ(RunOps("2024-03-01T00:00:00", "UTC", {{'a', kHourOfDay, -2147483647 - 1}}),
            "year -242960 is outside the supported 1900-9999");
}

}  // namespace
}  // namespace hera::render
