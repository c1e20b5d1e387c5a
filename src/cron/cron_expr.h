#pragma once
// Cron expressions: Quartz (6-7 fields, seconds first) and Unix (5 fields, as cronie reads
// them), evaluated in any IANA time zone with the daylight-saving rules of SEMANTICS.md §2.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cron/cron_field.h"

namespace hera::cron {

// A parsed cron expression.
//
// Grammar. The number of fields decides the dialect:
//  - Quartz, 6 or 7 fields: `sec min hour day-of-month month day-of-week [year]`, with
//    `* ? - , /`, names JAN-DEC and SUN-SAT in any case, weekdays 1=SUN..7=SAT; day-of-month
//    also takes `L`, `L-n` (n <= 30), `LW`, `L-nW` and `nW`; day-of-week `L` (Saturday), `nL`
//    (last weekday n of the month) and `n#k` (k-th weekday n); one of the two day fields is
//    `?` (both `?` means every day); years 1970-2199. A backwards range wraps (`FRI-MON`).
//  - Unix, 5 fields: `min hour day-of-month month day-of-week`, weekdays 0-7 (0 and 7 are
//    Sunday); when both day fields are restricted a day matching either fires, and a day field
//    starting with `*` counts as unrestricted (so `*/2` in day-of-month means "and"). Also
//    @yearly @annually @monthly @weekly @daily @midnight @hourly.
//
// Time zones. Fire times are civil times in the zone passed to each call:
//  - a civil time in a spring-forward gap fires once, at the first instant after the gap;
//  - in a fall-back overlap, an expression whose hour field is `*` or a step fires in both
//    passes; any other fires in the first pass only.
// Searches are bounded: years 1970-9999 and at most 400 years from the given instant (the
// calendar repeats every 400 years), so every call returns promptly, with "none" when the
// expression can never fire again (e.g. `0 0 0 30 2 ?`, or a year field in the past).
//
// Pure (no IO, clock or threads), immutable and cheap to copy: safe to share across threads.
class CronExpr {
 public:
  // Parses `text`. InvalidArgument names the field, its position and the reason, e.g.
  // "day-of-week: 8 is outside 1-7 (field 6, column 11)".
  static absl::StatusOr<CronExpr> Parse(std::string_view text);

  // The first fire time strictly after `t`, or nullopt when there is none within the horizon.
  std::optional<absl::Time> NextAfter(absl::Time t, const absl::TimeZone& tz) const;

  // The last fire time strictly before `t`, or nullopt when there is none within the horizon
  // (nor before 1970). Inverse of NextAfter: PrevBefore(NextAfter(t)) <= t.
  std::optional<absl::Time> PrevBefore(absl::Time t, const absl::TimeZone& tz) const;

  // Every fire time in [from, to), ascending, at most `max` of them.
  std::vector<absl::Time> AllIn(absl::Time from, absl::Time to, const absl::TimeZone& tz,
                                size_t max = 100000) const;

  // True when the civil time `cs` satisfies every field (no time-zone rules involved).
  bool Matches(const absl::CivilSecond& cs) const;

  Dialect dialect() const { return dialect_; }
  // The text as given to Parse().
  const std::string& text() const { return text_; }
  // True when the hour field is '*' or a step: the expression fires in both passes of a
  // fall-back overlap.
  bool fires_in_both_passes() const { return hour_interval_; }

 private:
  CronExpr(const internal::FieldSet& fields, Dialect dialect, bool hour_interval, std::string text)
      : fields_(fields), dialect_(dialect), hour_interval_(hour_interval), text_(std::move(text)) {}

  internal::FieldSet fields_;
  Dialect dialect_;
  bool hour_interval_;
  std::string text_;
};

}  // namespace hera::cron
