#include "cron/cron_expr.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/time_format.h"

namespace hera::cron {
namespace {

static_assert(std::is_copy_constructible_v<CronExpr> &&
              std::is_nothrow_move_constructible_v<CronExpr>);

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

absl::Time At(const std::string& text, const absl::TimeZone& tz) {
  const absl::StatusOr<absl::Time> t = ParseIsoTime(text, tz);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : absl::UnixEpoch();
}

CronExpr MustParse(const std::string& text) {
  absl::StatusOr<CronExpr> e = CronExpr::Parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status();
  return e.ok() ? *std::move(e) : *CronExpr::Parse("0 0 0 1 1 ? 1970");
}

// Successive NextAfter from `from`, as ISO text in the zone; "NONE" ends the list early.
std::vector<std::string> NextTimes(const std::string& expr, const std::string& zone,
                                   const std::string& from, size_t n) {
  const absl::TimeZone tz = Zone(zone);
  const CronExpr e = MustParse(expr);
  std::vector<std::string> out;
  absl::Time t = At(from, tz);
  for (size_t i = 0; i < n; ++i) {
    const std::optional<absl::Time> next = e.NextAfter(t, tz);
    if (!next) {
      out.push_back("NONE");
      break;
    }
    out.push_back(FormatIsoTime(*next, tz));
    t = *next;
  }
  return out;
}

struct Case {
  const char* expr;
  const char* zone;
  const char* from;
  std::vector<std::string> want;  // successive fire times; a final "NONE" means no more
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(NextTimes(c.expr, c.zone, c.from, c.want.size()), c.want)
        << "'" << c.expr << "' in " << c.zone << " from " << c.from;
    // Walking back from the last time must retrace the list.
    const absl::TimeZone tz = Zone(c.zone);
    const CronExpr e = MustParse(c.expr);
    std::vector<std::string> want = c.want;
    if (!want.empty() && want.back() == "NONE") want.pop_back();
    for (size_t i = want.size(); i-- > 1;) {
      const std::optional<absl::Time> prev = e.PrevBefore(At(want[i], tz), tz);
      ASSERT_TRUE(prev.has_value()) << c.expr << " before " << want[i];
      EXPECT_EQ(FormatIsoTime(*prev, tz), want[i - 1]) << c.expr << " before " << want[i];
    }
  }
}

TEST(CronExprTest, NewYorkSpringForwardFiresOnceAfterTheGap) {
  RunCases({
      {"0 30 2 * * ?",
       "America/New_York",
       "2026-03-07T12:00:00",
       {"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
      {"0 */15 * * * ?",
       "America/New_York",
       "2026-03-08T01:50:00",
       {"2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"}},
      {"0 0 0/1 * * ?",
       "America/New_York",
       "2026-03-08T00:30:00",
       {"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}},
      {"30 2 * * *",
       "America/New_York",
       "2026-03-08T00:00:00",
       {"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
      {"0 59 1 * * ?",
       "America/New_York",
       "2026-03-08T00:00:00",
       {"2026-03-08T01:59:00-05:00", "2026-03-09T01:59:00-04:00"}},
  });
}

TEST(CronExprTest, NewYorkFallBackFixedHoursFireInTheFirstPassOnly) {
  RunCases({
      {"0 30 1 * * ?",
       "America/New_York",
       "2026-10-31T12:00:00",
       {"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
      {"0 0 1-2 * * ?",
       "America/New_York",
       "2026-11-01T00:30:00",
       {"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-02T01:00:00-05:00"}},
      {"0 0 2 * * ?",
       "America/New_York",
       "2026-10-31T12:00:00",
       {"2026-11-01T02:00:00-05:00", "2026-11-02T02:00:00-05:00"}},
      {"30 1 * * *",
       "America/New_York",
       "2026-11-01T00:00:00",
       {"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
      // From inside the second pass, nothing more that day.
      {"0 45 1 * * ?",
       "America/New_York",
       "2026-11-01T01:10:00-05:00",
       {"2026-11-02T01:45:00-05:00"}},
  });
}

TEST(CronExprTest, NewYorkFallBackIntervalsFireInBothPasses) {
  RunCases({
      {"0 30 * * * ?",
       "America/New_York",
       "2026-11-01T00:45:00",
       {"2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00"}},
      {"0 0 1/2 * * ?",
       "America/New_York",
       "2026-11-01T00:30:00",
       {"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
      {"@hourly",
       "America/New_York",
       "2026-11-01T00:30:00",
       {"2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}},
      {"0 */20 * * * ?",
       "America/New_York",
       "2026-11-01T01:50:00-04:00",
       {"2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00", "2026-11-01T01:40:00-05:00",
        "2026-11-01T02:00:00-05:00"}},
      {"0 0 * * * ?",
       "America/New_York",
       "2026-11-01T01:00:00-05:00",
       {"2026-11-01T02:00:00-05:00"}},
  });
}

TEST(CronExprTest, LondonTransitionsAtOneAm) {
  RunCases({
      {"0 30 1 * * ?",
       "Europe/London",
       "2026-03-28T12:00:00",
       {"2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"}},
      {"0 0 * * * ?",
       "Europe/London",
       "2026-03-29T00:30:00",
       {"2026-03-29T02:00:00+01:00", "2026-03-29T03:00:00+01:00"}},
      {"0 15 1 * * ?",
       "Europe/London",
       "2026-10-24T12:00:00",
       {"2026-10-25T01:15:00+01:00", "2026-10-26T01:15:00+00:00"}},
      {"0 */30 * * * ?",
       "Europe/London",
       "2026-10-25T01:10:00+01:00",
       {"2026-10-25T01:30:00+01:00", "2026-10-25T01:00:00+00:00", "2026-10-25T01:30:00+00:00",
        "2026-10-25T02:00:00+00:00"}},
  });
}

TEST(CronExprTest, LordHoweShiftsByThirtyMinutes) {
  RunCases({
      {"0 15 2 * * ?",
       "Australia/Lord_Howe",
       "2026-10-03T12:00:00",
       {"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
      {"0 0,30 * * * ?",
       "Australia/Lord_Howe",
       "2026-10-04T01:40:00",
       {"2026-10-04T02:30:00+11:00", "2026-10-04T03:00:00+11:00"}},
      {"0 45 1 * * ?",
       "Australia/Lord_Howe",
       "2026-04-04T12:00:00",
       {"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
      {"0 */20 * * * ?",
       "Australia/Lord_Howe",
       "2026-04-05T01:30:00+11:00",
       {"2026-04-05T01:40:00+11:00", "2026-04-05T01:40:00+10:30", "2026-04-05T02:00:00+10:30"}},
  });
}

TEST(CronExprTest, ShanghaiHasNoDaylightSaving) {
  RunCases({
      {"0 30 2 * * ?",
       "Asia/Shanghai",
       "2026-03-08T00:00:00",
       {"2026-03-08T02:30:00+08:00", "2026-03-09T02:30:00+08:00"}},
      {"0 30 1 * * ?",
       "Asia/Shanghai",
       "2026-10-31T12:00:00",
       {"2026-11-01T01:30:00+08:00", "2026-11-02T01:30:00+08:00"}},
      {"0 0 0 1 1 ?", "Asia/Shanghai", "2026-06-01T00:00:00", {"2027-01-01T00:00:00+08:00"}},
  });
  const absl::TimeZone sh = Zone("Asia/Shanghai");
  const CronExpr daily = MustParse("0 0 9 * * ?");
  EXPECT_EQ(daily.AllIn(At("2026-01-01T00:00:00", sh), At("2027-01-01T00:00:00", sh), sh).size(),
            365u);
}

TEST(CronExprTest, LeapYears) {
  RunCases({
      {"0 0 0 29 2 ?",
       "UTC",
       "2024-03-01T00:00:00",
       {"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"}},
      {"0 0 0 29 2 ?", "UTC", "2096-03-01T00:00:00", {"2104-02-29T00:00:00+00:00"}},
      {"0 0 0 29 2 ?", "UTC", "1999-03-01T00:00:00", {"2000-02-29T00:00:00+00:00"}},
      {"0 0 12 L 2 ?", "UTC", "2100-01-01T00:00:00", {"2100-02-28T12:00:00+00:00"}},
      {"0 0 12 L 2 ?", "UTC", "2024-01-01T00:00:00", {"2024-02-29T12:00:00+00:00"}},
      {"0 0 29 2 1",
       "UTC",
       "2025-02-20T00:00:00",
       {"2025-02-24T00:00:00+00:00", "2026-02-02T00:00:00+00:00"}},
      {"0 0 0 ? 2 MON#5",
       "UTC",
       "2016-03-01T00:00:00",
       {"2044-02-29T00:00:00+00:00", "2072-02-29T00:00:00+00:00"}},
  });
}

TEST(CronExprTest, MonthEnds) {
  RunCases({
      {"0 0 0 L * ?",
       "UTC",
       "2026-01-15T00:00:00",
       {"2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00", "2026-03-31T00:00:00+00:00",
        "2026-04-30T00:00:00+00:00"}},
      {"0 0 0 L-1 * ?",
       "UTC",
       "2026-01-15T00:00:00",
       {"2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00", "2026-03-30T00:00:00+00:00"}},
      {"0 0 0 LW * ?",
       "UTC",
       "2026-01-01T00:00:00",
       {"2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00", "2026-03-31T00:00:00+00:00",
        "2026-04-30T00:00:00+00:00", "2026-05-29T00:00:00+00:00"}},
      {"0 0 0 31 * ?",
       "UTC",
       "2026-04-01T00:00:00",
       {"2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00", "2026-08-31T00:00:00+00:00"}},
      {"0 0 0 ? * 6L",
       "UTC",
       "2026-01-01T00:00:00",
       {"2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00", "2026-03-27T00:00:00+00:00"}},
      {"0 0 0 1W * ?",
       "UTC",
       "2026-02-01T00:00:00",
       {"2026-02-02T00:00:00+00:00", "2026-03-02T00:00:00+00:00", "2026-04-01T00:00:00+00:00"}},
      {"0 0 0 1W * ?", "UTC", "2026-07-15T00:00:00", {"2026-08-03T00:00:00+00:00"}},
      {"0 0 0 31W * ?",
       "UTC",
       "2026-05-01T00:00:00",
       {"2026-05-29T00:00:00+00:00", "2026-07-31T00:00:00+00:00"}},
      {"59 59 23 L * ?",
       "UTC",
       "2026-12-31T23:59:58",
       {"2026-12-31T23:59:59+00:00", "2027-01-31T23:59:59+00:00"}},
  });
}

TEST(CronExprTest, YearField) {
  RunCases({
      {"0 0 12 1 1 ? 2027", "UTC", "2026-06-01T00:00:00", {"2027-01-01T12:00:00+00:00", "NONE"}},
      {"0 0 0 1 1 ? 2020", "UTC", "2026-06-01T00:00:00", {"NONE"}},
      {"0 0 0 1 1 ? 2030-2040/5",
       "UTC",
       "2026-06-01T00:00:00",
       {"2030-01-01T00:00:00+00:00", "2035-01-01T00:00:00+00:00", "2040-01-01T00:00:00+00:00",
        "NONE"}},
      {"0 0 0 1 1 ? 2199", "UTC", "2026-06-01T00:00:00", {"2199-01-01T00:00:00+00:00", "NONE"}},
      {"0 0 0 1 1 ? *",
       "UTC",
       "2199-06-01T00:00:00",
       {"2200-01-01T00:00:00+00:00", "2201-01-01T00:00:00+00:00"}},
      {"0 0 0 1 JAN ? 2026,2028",
       "UTC",
       "2025-01-01T00:00:00",
       {"2026-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00", "NONE"}},
  });
  const absl::TimeZone utc = absl::UTCTimeZone();
  const CronExpr e = MustParse("0 0 0 1 1 ? 2030");
  EXPECT_FALSE(e.PrevBefore(At("2026-01-01T00:00:00", utc), utc).has_value());
  EXPECT_EQ(FormatIsoTime(*e.PrevBefore(At("2031-01-01T00:00:00", utc), utc)),
            "2030-01-01T00:00:00+00:00");
}

TEST(CronExprTest, UnixDayFieldsCombineAsCronieDoes) {
  RunCases({
      // Both restricted: either matches (1st, 15th and every Friday).
      {"0 0 1,15 * 5",
       "UTC",
       "2026-03-01T00:00:00",
       {"2026-03-06T00:00:00+00:00", "2026-03-13T00:00:00+00:00", "2026-03-15T00:00:00+00:00",
        "2026-03-20T00:00:00+00:00"}},
      // Day-of-month starts with '*': both must match (odd days that are Fridays).
      {"0 0 */2 * 5",
       "UTC",
       "2026-03-01T00:00:00",
       {"2026-03-13T00:00:00+00:00", "2026-03-27T00:00:00+00:00", "2026-04-03T00:00:00+00:00"}},
      {"0 0 * * 7",
       "UTC",
       "2026-03-01T00:00:00",
       {"2026-03-08T00:00:00+00:00", "2026-03-15T00:00:00+00:00"}},
      {"0 0 * * 5-7",
       "UTC",
       "2026-03-01T00:00:00",
       {"2026-03-06T00:00:00+00:00", "2026-03-07T00:00:00+00:00", "2026-03-08T00:00:00+00:00",
        "2026-03-13T00:00:00+00:00"}},
      {"@weekly", "UTC", "2026-03-01T00:00:00", {"2026-03-08T00:00:00+00:00"}},
      {"@yearly", "UTC", "2026-03-01T00:00:00", {"2027-01-01T00:00:00+00:00"}},
      {"@monthly", "UTC", "2026-03-01T00:00:00", {"2026-04-01T00:00:00+00:00"}},
      {"@daily", "UTC", "2026-03-01T00:00:00", {"2026-03-02T00:00:00+00:00"}},
  });
}

TEST(CronExprTest, QuartzRangesWrapAndNamesIgnoreCase) {
  RunCases({
      {"0 0 0 ? * fri-MON",
       "UTC",
       "2026-03-03T00:00:00",  // a Tuesday
       {"2026-03-06T00:00:00+00:00", "2026-03-07T00:00:00+00:00", "2026-03-08T00:00:00+00:00",
        "2026-03-09T00:00:00+00:00", "2026-03-13T00:00:00+00:00"}},
      {"0 0 22-1 * * ?",
       "UTC",
       "2026-03-03T12:00:00",
       {"2026-03-03T22:00:00+00:00", "2026-03-03T23:00:00+00:00", "2026-03-04T00:00:00+00:00",
        "2026-03-04T01:00:00+00:00", "2026-03-04T22:00:00+00:00"}},
      {"0 0 0 1 nov-feb ?",
       "UTC",
       "2026-03-03T00:00:00",
       {"2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00",
        "2027-02-01T00:00:00+00:00", "2027-11-01T00:00:00+00:00"}},
  });
}

TEST(CronExprTest, ErrorsNameTheFieldPositionAndReason) {
  struct Bad {
    const char* expr;
    const char* message;
  };
  const std::vector<Bad> bad = {
      {"0 0 0 ? * 8", "day-of-week: 8 is outside 1-7 (field 6, column 11)"},
      {"0 0 24 * * ?", "hour: 24 is outside 0-23 (field 3, column 5)"},
      {"0 0 0 1 13 ?", "month: 13 is outside 1-12 (field 5, column 9)"},
      {"* * * * 8", "day-of-week: 8 is outside 0-7 (field 5, column 9)"},
      {"0 0 * * * *",
       "day-of-week: one of day-of-month and day-of-week must be '?' (Quartz) (field 6, column "
       "11)"},
      {"0 0 0 L-31 * ?",
       "day-of-month: offset 31 from the last day is more than 30 (field 4, "
       "column 7)"},
      {"*/0 * * * *", "minute: step 0 is not allowed (field 1, column 3)"},
      {"0/15 * * * *",
       "minute: a step needs a range or '*' before '/' (as in 0-59/15) (field 1, column 1)"},
      {"0 0/120 8-18 ? * 2-6", "minute: step 120 is more than 59 (field 2, column 5)"},
      {"* * * janu-jun *", "month: 'JANU' is not a month (JAN-DEC) (field 4, column 7)"},
      {"0 0 0 ? * SAT,SUN,L",
       "day-of-week: 'L' and '#' cannot be combined with other day-of-week values (field 6, "
       "column 11)"},
      {"0 0 0 1 1 ? 2200", "year: 2200 is outside 1970-2199 (field 7, column 13)"},
      {"0 0 0 1 1 ? 2030-2020", "year: range 2030-2020 runs backwards (field 7, column 13)"},
      {"* 6-5 * * *", "hour: range 6-5 runs backwards (field 2, column 3)"},
      {"0-1& * * * *", "minute: unexpected '&' (field 1, column 4)"},
      {"0 0 0 ? * 2#6", "day-of-week: ordinal 6 after '#' is outside 1-5 (field 6, column 13)"},
      {"0 0 0 ? * 2#1,", "day-of-week: empty element in a list (field 6, column 15)"},
      {"* * *",
       "expected 5 fields (Unix cron) or 6-7 fields (Quartz: sec min hour day-of-month month "
       "day-of-week [year]), got 3"},
      {"   ", "empty cron expression"},
      {"@reboot", "@reboot has no fire times"},
  };
  for (const Bad& b : bad) {
    const absl::StatusOr<CronExpr> e = CronExpr::Parse(b.expr);
    ASSERT_FALSE(e.ok()) << b.expr;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(e.status().message()), b.message) << b.expr;
  }
}

TEST(CronExprTest, DialectAndText) {
  EXPECT_EQ(MustParse("0 0 3 ? * MON-FRI").dialect(), Dialect::kQuartz);
  EXPECT_EQ(MustParse("0 0 3 ? * MON-FRI 2030").dialect(), Dialect::kQuartz);
  EXPECT_EQ(MustParse("0 3 * * 1-5").dialect(), Dialect::kUnix);
  EXPECT_EQ(MustParse("@daily").dialect(), Dialect::kUnix);
  EXPECT_EQ(MustParse("  0 3 * * 1-5 ").text(), "  0 3 * * 1-5 ");
  EXPECT_TRUE(MustParse("0 0 */2 * * ?").fires_in_both_passes());
  EXPECT_TRUE(MustParse("0 0 * * * ?").fires_in_both_passes());
  EXPECT_FALSE(MustParse("0 * 1 * * ?").fires_in_both_passes());
  EXPECT_FALSE(MustParse("0 0 1-3 * * ?").fires_in_both_passes());
}

TEST(CronExprTest, MatchesCivilTimes) {
  const CronExpr e = MustParse("0 30 9 ? * MON-FRI");
  EXPECT_TRUE(e.Matches(absl::CivilSecond(2026, 3, 2, 9, 30, 0)));   // Monday
  EXPECT_FALSE(e.Matches(absl::CivilSecond(2026, 3, 1, 9, 30, 0)));  // Sunday
  EXPECT_FALSE(e.Matches(absl::CivilSecond(2026, 3, 2, 9, 30, 1)));
  EXPECT_FALSE(e.Matches(absl::CivilSecond(1969, 3, 3, 9, 30, 0)));  // before 1970
}

TEST(CronExprTest, SearchesAreBounded) {
  const absl::TimeZone ny = Zone("America/New_York");
  const absl::Time t = At("2026-01-01T00:00:00", ny);
  for (const char* never : {"0 0 0 30 2 ?", "0 0 0 31 4 ?", "0 0 30 2 *", "0 0 0 L-30 2 ?",
                            "0 0 0 31W 6 ?", "0 0 0 ? 2 MON#5 2017-2043"}) {
    const CronExpr e = MustParse(never);
    EXPECT_FALSE(e.NextAfter(t, ny).has_value()) << never;
    EXPECT_FALSE(e.PrevBefore(t, ny).has_value()) << never;
    EXPECT_TRUE(e.AllIn(t, t + absl::Hours(24 * 365), ny).empty()) << never;
  }
  const CronExpr past = MustParse("0 0 0 1 1 ? 1970");
  EXPECT_FALSE(past.NextAfter(t, ny).has_value());
  EXPECT_EQ(FormatIsoTime(*past.PrevBefore(t, ny), ny), "1970-01-01T00:00:00-05:00");
  const CronExpr every = MustParse("* * * * * ?");
  EXPECT_FALSE(every.NextAfter(absl::InfiniteFuture(), ny).has_value());
  EXPECT_FALSE(every.PrevBefore(absl::InfinitePast(), ny).has_value());
  EXPECT_EQ(FormatIsoTime(*every.NextAfter(absl::InfinitePast(), absl::UTCTimeZone())),
            "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(FormatIsoTime(*every.PrevBefore(absl::InfiniteFuture(), absl::UTCTimeZone())),
            "9999-12-31T23:59:59+00:00");
  EXPECT_FALSE(every.NextAfter(At("9999-12-31T23:59:59Z", ny), absl::UTCTimeZone()).has_value());
  EXPECT_EQ(every.AllIn(t, t + absl::Hours(1), ny, 10).size(), 10u);
  EXPECT_EQ(every.AllIn(t, t + absl::Hours(1), ny).size(), 3600u);
  EXPECT_TRUE(every.AllIn(t, t, ny).empty());
}

TEST(CronExprTest, AllInIsHalfOpen) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const CronExpr e = MustParse("0 0 * * * ?");
  const std::vector<absl::Time> got =
      e.AllIn(At("2026-01-01T00:00:00Z", utc), At("2026-01-01T03:00:00Z", utc), utc);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(FormatIsoTime(got[0]), "2026-01-01T00:00:00+00:00");
  EXPECT_EQ(FormatIsoTime(got[2]), "2026-01-01T02:00:00+00:00");
}

// An independent statement of the rules: walk every minute of a window in civil time, map each
// matching civil time to its instants (unique: itself; skipped: the end of the gap; repeated:
// the first pass, and the second for an hour interval), and compare with AllIn and PrevBefore.
std::vector<absl::Time> ReferenceFires(const CronExpr& e, absl::Time from, absl::Time to,
                                       const absl::TimeZone& tz) {
  std::vector<absl::Time> out;
  const absl::CivilMinute first(tz.At(from).cs - 2 * 86400);
  const absl::CivilMinute last(tz.At(to).cs + 2 * 86400);
  for (absl::CivilMinute m = first; m <= last; ++m) {
    const absl::CivilSecond c(m);
    if (!e.Matches(c)) continue;
    const absl::TimeZone::TimeInfo ti = tz.At(c);
    switch (ti.kind) {
      case absl::TimeZone::TimeInfo::UNIQUE:
        out.push_back(ti.pre);
        break;
      case absl::TimeZone::TimeInfo::SKIPPED:
        out.push_back(ti.trans);
        break;
      case absl::TimeZone::TimeInfo::REPEATED:
        out.push_back(ti.pre);
        if (e.fires_in_both_passes()) out.push_back(ti.post);
        break;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  out.erase(
      std::remove_if(out.begin(), out.end(), [&](absl::Time x) { return x < from || x >= to; }),
      out.end());
  return out;
}

TEST(CronExprTest, AgreesWithAMinuteByMinuteReferenceAroundTransitions) {
  struct Window {
    const char* zone;
    const char* from;  // two days are checked from here
  };
  const std::vector<Window> windows = {
      {"America/New_York", "2026-03-07T12:00:00Z"},
      {"America/New_York", "2026-10-31T12:00:00Z"},
      {"Europe/London", "2026-03-28T12:00:00Z"},
      {"Europe/London", "2026-10-24T12:00:00Z"},
      {"Australia/Lord_Howe", "2026-04-04T00:00:00Z"},
      {"Australia/Lord_Howe", "2026-10-03T00:00:00Z"},
      {"America/Santiago", "2017-05-13T00:00:00Z"},
      {"America/Santiago", "2017-08-12T12:00:00Z"},
      {"Asia/Amman", "2017-03-30T00:00:00Z"},
      {"Pacific/Apia", "2011-12-29T00:00:00Z"},
      {"Antarctica/Troll", "2026-03-28T12:00:00Z"},
      {"Europe/Dublin", "2026-10-24T12:00:00Z"},
      {"Asia/Shanghai", "2026-03-07T12:00:00Z"},
  };
  const std::vector<std::string> exprs = {
      "0 */30 * * * ?", "0 30 2 * * ?",    "0 0,30 1 * * ?",
      "0 15 * * * ?",   "0 */7 1-3 * * ?", "0 0 0 * * ?",
      "0 30 0 L * ?",   "0 * 2 * * ?",     "0 */20 23,0 * * ?",
      "0 0 1/2 * * ?",  "0 45 0-3 * * ?",  "*/15 * * * *",
      "30 1 * * *",     "0 2 * * 0",       "@hourly",
      "0 0-4/1 * * *",  "0 0 12 * * ?",    "0 0,10,50 0-3 ? * SAT-SUN",
  };
  for (const Window& w : windows) {
    const absl::TimeZone tz = Zone(w.zone);
    const absl::Time from = At(w.from, tz);
    const absl::Time to = from + absl::Hours(48);
    for (const std::string& text : exprs) {
      const CronExpr e = MustParse(text);
      const std::vector<absl::Time> want = ReferenceFires(e, from, to, tz);
      std::vector<std::string> want_s, got_s, back_s;
      for (absl::Time x : want) want_s.push_back(FormatIsoTime(x, tz));
      for (absl::Time x : e.AllIn(from, to, tz)) got_s.push_back(FormatIsoTime(x, tz));
      EXPECT_EQ(got_s, want_s) << text << " in " << w.zone << " from " << w.from;
      // Backward from `to` gives the same times in reverse.
      std::optional<absl::Time> p = e.PrevBefore(to, tz);
      while (p && *p >= from) {
        back_s.push_back(FormatIsoTime(*p, tz));
        p = e.PrevBefore(*p, tz);
      }
      std::reverse(back_s.begin(), back_s.end());
      EXPECT_EQ(back_s, want_s) << "backward: " << text << " in " << w.zone;
    }
  }
}

TEST(CronExprTest, StartingInsideTheRepeatedHourFromEitherPass) {
  // Every minute of the New York overlap, in both passes, as a starting point.
  const absl::TimeZone ny = Zone("America/New_York");
  const absl::Time start = At("2026-11-01T00:59:30-04:00", ny);
  for (const char* text : {"0 */10 * * * ?", "0 */10 1 * * ?", "0 5 1 * * ?"}) {
    const CronExpr e = MustParse(text);
    const std::vector<absl::Time> ref = ReferenceFires(e, start, start + absl::Hours(30), ny);
    for (absl::Time t = start; t < start + absl::Hours(3); t += absl::Seconds(90)) {
      const auto it = std::upper_bound(ref.begin(), ref.end(), t);
      const std::optional<absl::Time> next = e.NextAfter(t, ny);
      ASSERT_NE(it, ref.end());
      ASSERT_TRUE(next.has_value());
      EXPECT_EQ(FormatIsoTime(*next, ny), FormatIsoTime(*it, ny))
          << text << " after " << FormatIsoTime(t, ny);
      const auto lb = std::lower_bound(ref.begin(), ref.end(), t);
      if (lb != ref.begin()) {
        const std::optional<absl::Time> prev = e.PrevBefore(t, ny);
        ASSERT_TRUE(prev.has_value());
        EXPECT_EQ(FormatIsoTime(*prev, ny), FormatIsoTime(*(lb - 1), ny))
            << text << " before " << FormatIsoTime(t, ny);
      }
    }
  }
}

TEST(CronExprTest, CopiesShareNothingMutable) {
  const CronExpr a = MustParse("0 0 3 ? * MON-FRI");
  const CronExpr b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::Time t = At("2026-03-06T04:00:00Z", utc);  // a Friday
  EXPECT_EQ(a.NextAfter(t, utc), b.NextAfter(t, utc));
  EXPECT_EQ(FormatIsoTime(*b.NextAfter(t, utc)), "2026-03-09T03:00:00+00:00");
  EXPECT_EQ(b.text(), a.text());
}

}  // namespace
}  // namespace hera::cron
