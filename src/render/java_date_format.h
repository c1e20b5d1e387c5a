#pragma once
// java.text.SimpleDateFormat's formatting half, for Locale.US, so `format("yyyyMMdd")` in a
// Hera script prints what Java printed.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "render/java_calendar.h"

namespace hera::render {

// A parsed SimpleDateFormat pattern. Letters, repeated to set the width as in Java:
//   G era (AD)            y year (yy: two digits)   Y week year   M/L month (M: 1, MM: 01,
//   MMM: Jan, MMMM+: January)   d day of month   D day of year   E weekday (E-EEE: Mon,
//   EEEE+: Monday)   u weekday number (Monday 1)   F weekday-in-month   w week of year
//   W week of month   a AM/PM   H 0-23   k 1-24   K 0-11   h 1-12   m   s   S millisecond
//   (a count, not a fraction: S of 5 ms is "5")   z zone name (CST; zzzz: China Standard Time)
//   Z +0800   X +08 / XX +0800 / XXX +08:00 (Z for UTC)
// Text in single quotes is literal and '' is a quote; other non-letters are literal. Weeks
// follow Locale.US (start on Sunday; week 1 holds the 1st).
// Immutable and cheap to share across threads.
class JavaDateFormat {
 public:
  // Parses `pattern`. InvalidArgument, as Java's IllegalArgumentException, for an unquoted
  // ASCII letter SimpleDateFormat does not know ("illegal pattern letter 'q' at column 12 of
  // \"yyyy-MM-dd q\""), an unterminated quote, or XXXX.
  static absl::StatusOr<JavaDateFormat> Parse(std::string_view pattern);

  // The instant `t` (truncated to the millisecond) in `tz`.
  // REQUIRES: its year is within kMinYear..kMaxYear.
  std::string Format(absl::Time t, const absl::TimeZone& tz) const;

  // A wall-clock time in `tz` (gaps and repeats resolved as Java's Calendar does; see
  // JavaWallToUnixMillis). REQUIRES: 0 <= millis < 1000, year within kMinYear..kMaxYear.
  std::string Format(const absl::CivilSecond& cs, int millis, const absl::TimeZone& tz) const;

  // Fields already computed, e.g. from a JavaCalendar.
  std::string Format(const JavaFields& fields) const;

  const std::string& pattern() const { return pattern_; }

 private:
  // A run of one pattern letter, or literal text (letter 0).
  struct Token {
    char letter = 0;
    int count = 0;
    std::string literal;
  };

  JavaDateFormat(std::string pattern, std::vector<Token> tokens)
      : pattern_(std::move(pattern)), tokens_(std::move(tokens)) {}

  std::string pattern_;
  std::vector<Token> tokens_;
};

}  // namespace hera::render
