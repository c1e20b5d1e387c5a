#pragma once
// The compiled form of a cron expression: one bitset per field, the day-of-month and
// day-of-week specials (L, W, #), and the search over civil time that the time-zone logic in
// cron_expr.cc builds on. Internal to hera_cron; users go through CronExpr.

#include <array>
#include <cstdint>
#include <optional>

#include "absl/time/civil_time.h"

namespace hera::cron {

// Which grammar an expression was read with; the number of fields decides it.
enum class Dialect {
  kQuartz,  // 6 or 7 fields: sec min hour day-of-month month day-of-week [year]
  kUnix,    // 5 fields as cronie reads them, or an @-macro such as @daily
};

namespace internal {

// No fire time is searched before this year (Quartz's own floor for '*' years)...
inline constexpr int kMinYear = 1970;
// ...nor after this one (four-digit years keep ISO-8601 output unambiguous).
inline constexpr int kMaxYear = 9999;
// An explicit Quartz year field lists years within kMinYear..kQuartzMaxYear.
inline constexpr int kQuartzMaxYear = 2199;
// The Gregorian calendar repeats every 400 years, weekdays included: an expression without a
// year field that matches nothing within 400 years from a point never matches after it.
inline constexpr int kHorizonYears = 400;

// How the day-of-month and day-of-week sets combine into "this day fires".
enum class DayRule : uint8_t {
  kDomOnly,  // Quartz with day-of-week '?'
  kDowOnly,  // Quartz with day-of-month '?'
  kBoth,     // Unix when either day field starts with '*': both must match (cronie's DOM_STAR)
  kEither,   // Unix when both day fields are restricted: a day matching either fires
};

// Plain data; every mask is non-empty after a successful parse except that the day masks may
// select no day in some (or every) month, e.g. "31 2".
struct FieldSet {
  uint64_t seconds = 0;  // bit s for second s, 0-59
  uint64_t minutes = 0;  // bit m for minute m, 0-59
  uint32_t hours = 0;    // bit h for hour h, 0-23
  uint16_t months = 0;   // bit m for month m, 1-12

  // Day of month.
  uint32_t days = 0;            // bit d for day d, 1-31
  uint32_t last_offsets = 0;    // bit n for "L-n" (bit 0 is "L"): day (last - n)
  uint32_t last_offsets_w = 0;  // bit n for "L-nW" (bit 0 is "LW"): weekday nearest (last - n)
  uint32_t nearest_w = 0;       // bit n for "nW": the weekday nearest day n, within the month

  // Day of week: weekdays are numbered 0=Sunday..6=Saturday whatever the dialect.
  uint8_t weekdays = 0;       // bit w: every weekday w
  uint8_t last_weekdays = 0;  // bit w for "wL": the last weekday w of the month
  uint64_t nth_weekdays = 0;  // bit 8*w+k for "w#k": the k-th (1-5) weekday w of the month

  DayRule day_rule = DayRule::kDomOnly;

  // Years: any year in kMinYear..kMaxYear, or the set below (Quartz year field).
  bool any_year = true;
  std::array<uint64_t, 4> years{};  // bit (y - kMinYear) for year y, when !any_year

  // Bit d (1-31) is set when day d of that month fires; never a day past the month's end.
  uint32_t DayMask(int64_t year, int month) const;

  // True when the civil time `cs` satisfies every field (no time-zone logic involved).
  bool Matches(const absl::CivilSecond& cs) const;

  // The first matching civil time at or after `from` in a year <= `last_year`, if any.
  // Cost: O(months searched); at most 12 * (last_year - from.year() + 1) steps.
  std::optional<absl::CivilSecond> NextAtOrAfter(const absl::CivilSecond& from,
                                                 int64_t last_year) const;
  // The last matching civil time at or before `from` in a year >= `first_year`, if any.
  std::optional<absl::CivilSecond> PrevAtOrBefore(const absl::CivilSecond& from,
                                                  int64_t first_year) const;

  // The first allowed year >= y (or last <= y), or -1 when there is none.
  int64_t NextYear(int64_t y) const;
  int64_t PrevYear(int64_t y) const;
};

// Days in month `month` (1-12) of the proleptic Gregorian `year`.
int DaysInMonth(int64_t year, int month);
// 0=Sunday..6=Saturday for that date.
int WeekdayOf(int64_t year, int month, int day);

}  // namespace internal
}  // namespace hera::cron
