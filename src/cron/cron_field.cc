#include "cron/cron_field.h"

#include <bit>

namespace hera::cron::internal {
namespace {

// Smallest set bit of `mask` that is >= `from`, or -1.
inline int NextBit(uint64_t mask, int from) {
  if (from >= 64) return -1;
  if (from > 0) mask &= ~uint64_t{0} << from;
  return mask != 0 ? std::countr_zero(mask) : -1;
}

// Largest set bit of `mask` that is <= `from`, or -1.
inline int PrevBit(uint64_t mask, int from) {
  if (from < 0) return -1;
  if (from < 63) mask &= (uint64_t{2} << from) - 1;
  return mask != 0 ? 63 - std::countl_zero(mask) : -1;
}

// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The weekday (Monday-Friday) nearest day `n` without leaving the month, as Quartz's "nW":
// a Saturday moves back to Friday unless n is the 1st (then Monday the 3rd); a Sunday moves on
// to Monday unless n is the last day (then Friday, two days back).
int NearestWeekday(int n, int days_in_month, int weekday_of_first) {
  const int wd = (weekday_of_first + n - 1) % 7;
  if (wd == 6) return n == 1 ? 3 : n - 1;
  if (wd == 0) return n == days_in_month ? n - 2 : n + 1;
  return n;
}

}  // namespace

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month != 2) return kDays[month];
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return leap ? 29 : 28;
}

int WeekdayOf(int64_t year, int month, int day) {
  const int64_t days = DaysFromCivil(year, month, day);  // 1970-01-01 was a Thursday (4)
  const int64_t wd = (days + 4) % 7;
  return static_cast<int>(wd < 0 ? wd + 7 : wd);
}

uint32_t FieldSet::DayMask(int64_t year, int month) const {
  const int dim = DaysInMonth(year, month);
  const uint32_t in_month = ((uint32_t{1} << dim) - 1) << 1;  // bits 1..dim
  const bool need_dom = day_rule != DayRule::kDowOnly;
  const bool need_dow = day_rule != DayRule::kDomOnly;
  const bool dom_special = (last_offsets | last_offsets_w | nearest_w) != 0;
  const bool dow_special = (last_weekdays != 0) || nth_weekdays != 0;
  // Only weekday-dependent parts need the weekday of the 1st.
  const int wd1 =
      (need_dow || (need_dom && (last_offsets_w | nearest_w) != 0)) ? WeekdayOf(year, month, 1) : 0;

  uint32_t dom = 0;
  if (need_dom) {
    dom = days;
    if (dom_special) {
      for (uint32_t b = last_offsets; b != 0; b &= b - 1) {
        const int d = dim - std::countr_zero(b);
        if (d >= 1) dom |= uint32_t{1} << d;
      }
      for (uint32_t b = last_offsets_w; b != 0; b &= b - 1) {
        const int d = dim - std::countr_zero(b);
        if (d >= 1) dom |= uint32_t{1} << NearestWeekday(d, dim, wd1);
      }
      for (uint32_t b = nearest_w; b != 0; b &= b - 1) {
        const int d = std::countr_zero(b);
        if (d <= dim) dom |= uint32_t{1} << NearestWeekday(d, dim, wd1);
      }
    }
  }

  uint32_t dow = 0;
  if (need_dow) {
    // Bit i of `rotated` says whether day (1 + i) has a selected weekday; weeks repeat.
    const uint32_t w = weekdays;
    const uint32_t rotated = ((w >> wd1) | (w << (7 - wd1))) & 0x7F;
    const uint32_t week = rotated << 1;
    dow = week | week << 7 | week << 14 | week << 21 | week << 28;
    if (dow_special) {
      const int wd_last = (wd1 + dim - 1) % 7;
      for (uint32_t b = last_weekdays; b != 0; b &= b - 1) {
        const int wd = std::countr_zero(b);
        dow |= uint32_t{1} << (dim - (wd_last - wd + 7) % 7);
      }
      for (uint64_t b = nth_weekdays; b != 0; b &= b - 1) {
        const int bit = std::countr_zero(b);
        const int wd = bit / 8;
        const int k = bit % 8;
        const int d = 1 + (wd - wd1 + 7) % 7 + 7 * (k - 1);
        if (d <= dim) dow |= uint32_t{1} << d;
      }
    }
  }

  uint32_t mask = 0;
  switch (day_rule) {
    case DayRule::kDomOnly:
      mask = dom;
      break;
    case DayRule::kDowOnly:
      mask = dow;
      break;
    case DayRule::kBoth:
      mask = dom & dow;
      break;
    case DayRule::kEither:
      mask = dom | dow;
      break;
  }
  return mask & in_month;
}

int64_t FieldSet::NextYear(int64_t y) const {
  if (y < kMinYear) y = kMinYear;
  if (any_year) return y <= kMaxYear ? y : -1;
  if (y > kQuartzMaxYear) return -1;
  for (int i = static_cast<int>(y - kMinYear); i < 256;) {
    const int word = i / 64;
    const int bit = NextBit(years[word], i % 64);
    if (bit >= 0) return kMinYear + word * 64 + bit;
    i = (word + 1) * 64;
  }
  return -1;
}

int64_t FieldSet::PrevYear(int64_t y) const {
  if (y < kMinYear) return -1;
  if (any_year) return y <= kMaxYear ? y : kMaxYear;
  if (y > kQuartzMaxYear) y = kQuartzMaxYear;
  for (int i = static_cast<int>(y - kMinYear); i >= 0;) {
    const int word = i / 64;
    const int bit = PrevBit(years[word], i % 64);
    if (bit >= 0) return kMinYear + word * 64 + bit;
    i = word * 64 - 1;
  }
  return -1;
}

bool FieldSet::Matches(const absl::CivilSecond& cs) const {
  const int64_t y = cs.year();
  if (NextYear(y) != y) return false;
  const int mo = cs.month();
  return (months >> mo & 1) != 0 && (DayMask(y, mo) >> cs.day() & 1) != 0 &&
         (hours >> cs.hour() & 1) != 0 && (minutes >> cs.minute() & 1) != 0 &&
         (seconds >> cs.second() & 1) != 0;
}

// Field by field, largest first: find the next allowed value of a field at or after the current
// one; when there is none, carry into the field above and restart the fields below at their
// minimum. Seconds, minutes, hours and months are never empty, so a carry happens at most once
// per level per month and the loop runs O(months searched) times.
std::optional<absl::CivilSecond> FieldSet::NextAtOrAfter(const absl::CivilSecond& from,
                                                         int64_t last_year) const {
  int64_t y = from.year();
  int mo = from.month(), d = from.day(), h = from.hour(), mi = from.minute(), s = from.second();
  if (y < kMinYear) {
    y = kMinYear;
    mo = d = 1;
    h = mi = s = 0;
  }
  if (last_year > kMaxYear) last_year = kMaxYear;
  for (;;) {
    const int64_t ny = NextYear(y);
    if (ny < 0 || ny > last_year) return std::nullopt;
    if (ny != y) {
      y = ny;
      mo = d = 1;
      h = mi = s = 0;
    }
    const int nmo = NextBit(months, mo);
    if (nmo < 0) {
      ++y;
      mo = d = 1;
      h = mi = s = 0;
      continue;
    }
    if (nmo != mo) {
      mo = nmo;
      d = 1;
      h = mi = s = 0;
    }
    const int nd = NextBit(DayMask(y, mo), d);
    if (nd < 0) {
      ++mo;
      d = 1;
      h = mi = s = 0;
      continue;
    }
    if (nd != d) {
      d = nd;
      h = mi = s = 0;
    }
    const int nh = NextBit(hours, h);
    if (nh < 0) {
      ++d;
      h = mi = s = 0;
      continue;
    }
    if (nh != h) {
      h = nh;
      mi = s = 0;
    }
    const int nmi = NextBit(minutes, mi);
    if (nmi < 0) {
      ++h;
      mi = s = 0;
      continue;
    }
    if (nmi != mi) {
      mi = nmi;
      s = 0;
    }
    const int ns = NextBit(seconds, s);
    if (ns < 0) {
      ++mi;
      s = 0;
      continue;
    }
    return absl::CivilSecond(y, mo, d, h, mi, ns);
  }
}

// The mirror image of NextAtOrAfter: fields restart at their maximum (day 31 stands for "the
// last day", as DayMask never has a bit past the month's end).
std::optional<absl::CivilSecond> FieldSet::PrevAtOrBefore(const absl::CivilSecond& from,
                                                          int64_t first_year) const {
  int64_t y = from.year();
  int mo = from.month(), d = from.day(), h = from.hour(), mi = from.minute(), s = from.second();
  if (y > kMaxYear) {
    y = kMaxYear;
    mo = 12;
    d = 31;
    h = 23;
    mi = s = 59;
  }
  if (first_year < kMinYear) first_year = kMinYear;
  for (;;) {
    const int64_t py = PrevYear(y);
    if (py < 0 || py < first_year) return std::nullopt;
    if (py != y) {
      y = py;
      mo = 12;
      d = 31;
      h = 23;
      mi = s = 59;
    }
    const int pmo = PrevBit(months, mo);
    if (pmo < 0) {
      --y;
      mo = 12;
      d = 31;
      h = 23;
      mi = s = 59;
      continue;
    }
    if (pmo != mo) {
      mo = pmo;
      d = 31;
      h = 23;
      mi = s = 59;
    }
    const int pd = PrevBit(DayMask(y, mo), d);
    if (pd < 0) {
      --mo;
      d = 31;
      h = 23;
      mi = s = 59;
      continue;
    }
    if (pd != d) {
      d = pd;
      h = 23;
      mi = s = 59;
    }
    const int ph = PrevBit(hours, h);
    if (ph < 0) {
      --d;
      h = 23;
      mi = s = 59;
      continue;
    }
    if (ph != h) {
      h = ph;
      mi = s = 59;
    }
    const int pmi = PrevBit(minutes, mi);
    if (pmi < 0) {
      --h;
      mi = s = 59;
      continue;
    }
    if (pmi != mi) {
      mi = pmi;
      s = 59;
    }
    const int ps = PrevBit(seconds, s);
    if (ps < 0) {
      --mi;
      s = 59;
      continue;
    }
    return absl::CivilSecond(y, mo, d, h, mi, ps);
  }
}

}  // namespace hera::cron::internal
