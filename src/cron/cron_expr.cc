#include "cron/cron_expr.h"

#include <algorithm>
#include <cstdint>

#include "common/status.h"
#include "cron/cron_parse.h"

namespace hera::cron {
namespace {

using internal::kHorizonYears;
using internal::kMaxYear;
using internal::kMinYear;
using TimeInfo = absl::TimeZone::TimeInfo;

// Instants before kEarliest or after kLatest cannot be fire times in any zone (UTC offsets stay
// within a day): fire times are civil times in years kMinYear..kMaxYear.
absl::Time Earliest() {
  static const absl::Time t =
      absl::FromCivil(absl::CivilSecond(kMinYear - 1, 12, 29, 0, 0, 0), absl::UTCTimeZone());
  return t;
}
absl::Time Latest() {
  static const absl::Time t =
      absl::FromCivil(absl::CivilSecond(kMaxYear + 1, 1, 3, 0, 0, 0), absl::UTCTimeZone());
  return t;
}

// The civil range [start, end) that a fall-back transition repeats, from the TimeInfo of any
// civil time in it. In the second pass civil time runs from `start` at the transition, so a
// repeated civil time c sits (post(c) - trans) after start; the overlap lasts post - pre.
struct Overlap {
  absl::CivilSecond start;
  absl::CivilSecond end;
};
Overlap OverlapOf(const absl::CivilSecond& c, const TimeInfo& ti) {
  const absl::CivilSecond start = c - absl::ToInt64Seconds(ti.post - ti.trans);
  return {start, start + absl::ToInt64Seconds(ti.post - ti.pre)};
}

}  // namespace

absl::StatusOr<CronExpr> CronExpr::Parse(std::string_view text) {
  HERA_ASSIGN_OR_RETURN(internal::Compiled c, internal::Compile(text));
  return CronExpr(c.fields, c.dialect, c.hour_interval, std::string(text));
}

bool CronExpr::Matches(const absl::CivilSecond& cs) const { return fields_.Matches(cs); }

// Fire times are the union, over matching civil times c, of:
//   c unique   -> its instant;
//   c skipped  -> the transition that ends the gap (several gap times collapse into one);
//   c repeated -> its first-pass instant, and its second-pass one too for an hour interval.
// First-pass instants rise with c, so walking matching civil times upward and taking the first
// instant after t is right, except that a repeated civil time's second-pass instant comes after
// every first-pass one: from inside a first pass, the second pass is searched separately.
std::optional<absl::Time> CronExpr::NextAfter(absl::Time t, const absl::TimeZone& tz) const {
  if (t >= Latest()) return std::nullopt;
  if (t < Earliest()) t = Earliest();
  const absl::CivilSecond c0 = tz.At(t).cs;  // t's civil second, rounded down
  const int64_t last_year = std::min<int64_t>(c0.year() + kHorizonYears, kMaxYear);
  absl::CivilSecond cursor = c0 + 1;

  if (hour_interval_) {
    const TimeInfo ti = tz.At(c0);
    if (ti.kind == TimeInfo::REPEATED && t < ti.trans) {
      // t is in the first pass of an overlap: first the rest of the first pass, then the whole
      // second pass, then what follows the overlap.
      const Overlap ov = OverlapOf(c0, ti);
      if (auto c = fields_.NextAtOrAfter(cursor, last_year); c && *c < ov.end) {
        return tz.At(*c).pre;
      }
      if (auto c = fields_.NextAtOrAfter(ov.start, last_year); c && *c < ov.end) {
        return tz.At(*c).post;
      }
      cursor = ov.end;
    }
  }

  // Runs more than once only when t is in a second pass and the expression fires only in
  // first passes, or (never in practice) when a zone's data is unusual; each round moves on.
  for (;;) {
    const std::optional<absl::CivilSecond> c = fields_.NextAtOrAfter(cursor, last_year);
    if (!c) return std::nullopt;
    const TimeInfo ti = tz.At(*c);
    switch (ti.kind) {
      case TimeInfo::UNIQUE:
        if (ti.pre > t) return ti.pre;
        cursor = *c + 1;
        break;
      case TimeInfo::SKIPPED:
        if (ti.trans > t) return ti.trans;
        cursor = *c + 1;
        break;
      case TimeInfo::REPEATED:
        if (ti.pre > t) return ti.pre;
        if (hour_interval_ && ti.post > t) return ti.post;
        cursor = std::max(*c + 1, OverlapOf(*c, ti).end);
        break;
    }
  }
}

// The mirror image of NextAfter: walk matching civil times downward; from inside a second pass,
// the rest of the second pass and then the whole first pass come first.
std::optional<absl::Time> CronExpr::PrevBefore(absl::Time t, const absl::TimeZone& tz) const {
  if (t <= Earliest()) return std::nullopt;
  if (t > Latest()) t = Latest();
  const absl::TimeZone::CivilInfo info = tz.At(t);
  const absl::CivilSecond c0 = info.cs;
  const int64_t first_year = std::max<int64_t>(c0.year() - kHorizonYears, kMinYear);
  // c0 itself is before t only when t is past the start of its second.
  absl::CivilSecond cursor = info.subsecond > absl::ZeroDuration() ? c0 : c0 - 1;

  const TimeInfo ti0 = tz.At(c0);
  if (ti0.kind == TimeInfo::REPEATED && t >= ti0.trans) {
    const Overlap ov = OverlapOf(c0, ti0);
    if (hour_interval_) {
      if (auto c = fields_.PrevAtOrBefore(cursor, first_year); c && *c >= ov.start) {
        return tz.At(*c).post;
      }
    }
    if (auto c = fields_.PrevAtOrBefore(ov.end - 1, first_year); c && *c >= ov.start) {
      return tz.At(*c).pre;
    }
    cursor = ov.start - 1;
  }

  for (;;) {
    const std::optional<absl::CivilSecond> c = fields_.PrevAtOrBefore(cursor, first_year);
    if (!c) return std::nullopt;
    const TimeInfo ti = tz.At(*c);
    switch (ti.kind) {
      case TimeInfo::UNIQUE:
        if (ti.pre < t) return ti.pre;
        break;
      case TimeInfo::SKIPPED:
        if (ti.trans < t) return ti.trans;
        break;
      case TimeInfo::REPEATED:
        if (hour_interval_ && ti.post < t) return ti.post;
        if (ti.pre < t) return ti.pre;
        break;
    }
    cursor = *c - 1;
  }
}

std::vector<absl::Time> CronExpr::AllIn(absl::Time from, absl::Time to, const absl::TimeZone& tz,
                                        size_t max) const {
  std::vector<absl::Time> out;
  if (from >= to || max == 0) return out;
  // Fire times fall on whole seconds, so none lies in (from - 1ns, from).
  std::optional<absl::Time> next = NextAfter(from - absl::Nanoseconds(1), tz);
  while (next && *next < to && out.size() < max) {
    out.push_back(*next);
    next = NextAfter(*next, tz);
  }
  return out;
}

}  // namespace hera::cron
