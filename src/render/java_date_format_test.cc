#include "render/java_date_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "render/test_util.h"

namespace hera::render {
namespace {

using ::hera::render::testing::At;
using ::hera::render::testing::Zone;
using ::testing::HasSubstr;

std::string Fmt(const std::string& pattern, const std::string& time, const std::string& zone) {
  const absl::StatusOr<JavaDateFormat> f = JavaDateFormat::Parse(pattern);
  EXPECT_TRUE(f.ok()) << pattern << ": " << f.status();
  return f.ok() ? f->Format(At(time, zone), Zone(zone)) : "";
}

// Expected values are OpenJDK 17's SimpleDateFormat(pattern, Locale.US) in the same zone.
TEST(JavaDateFormatTest, MatchesJava) {
  struct Case {
    const char* pattern;
    const char* time;
    const char* zone;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"yyyyMMdd", "2024-03-01T00:00:00", "Asia/Shanghai", "20240301"},
      {"yyyy-MM-dd HH:mm:ss", "2024-03-01T13:05:09", "Asia/Shanghai", "2024-03-01 13:05:09"},
      {"yy", "2005-03-01T00:00:00", "Asia/Shanghai", "05"},
      {"y yyy yyyyy", "2024-03-01T00:00:00", "Asia/Shanghai", "2024 2024 02024"},
      {"M MM MMM MMMM MMMMM", "2024-01-05T00:00:00", "Asia/Shanghai", "1 01 Jan January January"},
      {"L LL LLL LLLL", "2024-11-05T00:00:00", "Asia/Shanghai", "11 11 Nov November"},
      {"E EE EEE EEEE EEEEE", "2024-03-04T00:00:00", "Asia/Shanghai", "Mon Mon Mon Monday Monday"},
      {"EEEE, MMMM d, yyyy h:mm:ss.SSS a z Z XXX", "2024-03-01T13:05:09.007", "Asia/Shanghai",
       "Friday, March 1, 2024 1:05:09.007 PM CST +0800 +08:00"},
      {"E EEE MMM yy D F w W u k K H G zzzz", "2024-03-01T13:05:09.007", "Asia/Shanghai",
       "Fri Fri Mar 24 61 1 9 1 5 13 1 13 AD China Standard Time"},
      // Midnight and noon in the 1-based hour letters.
      {"H k K h a", "2024-03-01T00:00:00", "Asia/Shanghai", "0 24 0 12 AM"},
      {"HH kk KK hh a", "2024-03-01T12:00:00", "Asia/Shanghai", "12 12 00 12 PM"},
      // S counts milliseconds; it is not a fraction.
      {"S SS SSS SSSS", "2024-03-01T00:00:00.005", "Asia/Shanghai", "5 05 005 0005"},
      {"D DDD", "2024-12-31T00:00:00", "Asia/Shanghai", "366 366"},
      // Week year: Sunday 2024-12-29 starts week 1 of 2025 (Locale.US).
      {"YYYY-ww yyyy-ww YY", "2024-12-29T10:00:00", "Asia/Shanghai", "2025-01 2024-01 25"},
      {"YYYY-ww", "2024-12-28T10:00:00", "Asia/Shanghai", "2024-52"},
      {"W F u", "2024-03-31T10:00:00", "Asia/Shanghai", "6 5 7"},
      // Quoted text, '' and non-ASCII literals.
      {"yyyy'T'HH", "2024-03-01T08:00:00", "Asia/Shanghai", "2024T08"},
      {"h 'o''clock' a", "2024-03-01T15:00:00", "Asia/Shanghai", "3 o'clock PM"},
      {"''yy''", "2024-03-01T15:00:00", "Asia/Shanghai", "'24'"},
      {"yyyy年MM月dd日", "2024-03-01T15:00:00", "Asia/Shanghai", "2024年03月01日"},
      {"'abc'", "2024-03-01T15:00:00", "Asia/Shanghai", "abc"},
      // Zones: tzdata abbreviations, Java's long names, offsets.
      {"z zzzz Z X XX XXX", "2024-03-10T12:00:00Z", "UTC",
       "UTC Coordinated Universal Time +0000 Z Z Z"},
      {"yyyy-MM-dd HH:mm zzzz Z X", "2024-03-10T12:00:00", "America/New_York",
       "2024-03-10 12:00 Eastern Daylight Time -0400 -04"},
      {"z Z", "2024-01-10T12:00:00", "America/New_York", "EST -0500"},
      {"z Z X XXX", "2024-07-01T12:00:00", "Asia/Kolkata", "IST +0530 +05 +05:30"},
      {"z zzzz", "2024-07-01T12:00:00", "Asia/Singapore", "SGT Singapore Standard Time"},
      {"z zzzz", "2024-07-01T12:00:00", "Europe/London", "BST British Summer Time"},
      {"Z XXX", "2024-07-01T12:00:00", "America/St_Johns", "-0230 -02:30"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Fmt(c.pattern, c.time, c.zone), c.want) << c.pattern << " at " << c.time;
  }
}

TEST(JavaDateFormatTest, FormatsCivilTimeResolvedAsJavaDoes) {
  const JavaDateFormat f = *JavaDateFormat::Parse("yyyy-MM-dd HH:mm:ss.SSS z");
  const absl::TimeZone ny = Zone("America/New_York");
  // 02:30 does not exist on 2024-03-10; Java reads it with the offset from before the gap.
  EXPECT_EQ(f.Format(absl::CivilSecond(2024, 3, 10, 2, 30, 0), 250, ny),
            "2024-03-10 03:30:00.250 EDT");
  // 01:30 happens twice on 2024-11-03; Java takes the second (standard time).
  EXPECT_EQ(f.Format(absl::CivilSecond(2024, 11, 3, 1, 30, 0), 0, ny),
            "2024-11-03 01:30:00.000 EST");
}

TEST(JavaDateFormatTest, ZoneWithoutJavaNameFallsBack) {
  // Not in the built-in table: the tzdata abbreviation when alphabetic (Java agrees here),
  // else GMT+hh:mm where Java would print its own name ("NPT", "Nepal Time").
  EXPECT_EQ(Fmt("z", "2024-07-01T12:00:00", "America/Anchorage"), "AKDT");
  EXPECT_EQ(Fmt("z zzzz", "2024-07-01T12:00:00", "Asia/Kathmandu"), "GMT+05:45 GMT+05:45");
}

TEST(JavaDateFormatTest, BadPatternsNameTheProblem) {
  struct Case {
    const char* pattern;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"yyyy-MM-dd q", "illegal pattern letter 'q' at column 12 of \"yyyy-MM-dd q\""},
      {"YYYYMMDDhhmmssT", "illegal pattern letter 'T' at column 15"},
      {"h o'clock", "illegal pattern letter 'o' at column 3"},
      {"yyyy'MM", "unterminated quote in pattern \"yyyy'MM\""},
      {"XXXX", "pattern letter X repeated 4 times (at most 3) in \"XXXX\""},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<JavaDateFormat> f = JavaDateFormat::Parse(c.pattern);
    ASSERT_FALSE(f.ok()) << c.pattern;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(f.status().message()), HasSubstr(c.error)) << c.pattern;
  }
}

TEST(JavaDateFormatTest, EmptyPatternIsEmpty) {
  EXPECT_EQ(Fmt("", "2024-03-01T00:00:00", "UTC"), "");
  EXPECT_EQ(JavaDateFormat::Parse("yyyy")->pattern(), "yyyy");
}

}  // namespace
}  // namespace hera::render
