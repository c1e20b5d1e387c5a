#include "render/java_calendar.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace hera::render {
namespace {

constexpr int64_t kMillisPerDay = 24 * 60 * 60 * 1000;
// Locale.US week rules: weeks start on Sunday, and week 1 is the one holding the 1st.
constexpr int kSunday = 1;
constexpr int kFirstDayOfWeek = kSunday;
constexpr int kMinimalDaysInFirstWeek = 1;
constexpr int kStampComputed = 1;

constexpr int Bit(int field) { return 1 << field; }

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// 1 = Sunday .. 7 = Saturday, as Calendar.DAY_OF_WEEK.
int JavaDayOfWeek(absl::CivilDay d) {
  // absl numbers Monday 0 .. Sunday 6.
  return (static_cast<int>(absl::GetWeekday(d)) + 1) % 7 + 1;
}

// The latest day on or before `d` that falls on `java_dow`, which Java takes modulo 7
// (BaseCalendar.getDayOfWeekDateOnOrBefore).
absl::CivilDay DayOfWeekOnOrBefore(absl::CivilDay d, int64_t java_dow) {
  return d - FloorMod(JavaDayOfWeek(d) - java_dow, 7);
}

// GregorianCalendar.getWeekNumber: the week of `date` in the period starting on `first`.
int64_t WeekNumber(absl::CivilDay first, absl::CivilDay date) {
  absl::CivilDay week1 = DayOfWeekOnOrBefore(first + 6, kFirstDayOfWeek);
  if (week1 - first >= kMinimalDaysInFirstWeek) week1 -= 7;
  return FloorDiv(date - week1, 7) + 1;
}

int64_t MonthLength(int64_t year, int64_t month0) {
  const absl::CivilMonth m(year, static_cast<int>(month0) + 1);
  return absl::CivilDay(m + 1) - absl::CivilDay(m);
}

absl::Status YearOutOfRange(int64_t year) {
  return absl::OutOfRangeError(
      absl::StrCat("year ", year, " is outside the supported ", kMinYear, "-", kMaxYear));
}

absl::Status CheckYear(int64_t year) {
  if (year < kMinYear || year > kMaxYear) return YearOutOfRange(year);
  return absl::OkStatus();
}

// The instant's year in `tz`, or an error when it is out of range.
absl::Status CheckInstant(int64_t unix_millis, const absl::TimeZone& tz) {
  return CheckYear(tz.At(absl::FromUnixSeconds(FloorDiv(unix_millis, 1000))).cs.year());
}

}  // namespace

std::string JavaFieldName(int field) {
  static constexpr const char* kNames[] = {"ERA",          "YEAR",          "MONTH",
                                           "WEEK_OF_YEAR", "WEEK_OF_MONTH", "DAY_OF_MONTH",
                                           "DAY_OF_YEAR",  "DAY_OF_WEEK",   "DAY_OF_WEEK_IN_MONTH",
                                           "AM_PM",        "HOUR",          "HOUR_OF_DAY",
                                           "MINUTE",       "SECOND",        "MILLISECOND",
                                           "ZONE_OFFSET",  "DST_OFFSET"};
  if (field < 0 || field > kDstOffset) return absl::StrCat("field ", field);
  return kNames[field];
}

JavaFields ComputeJavaFields(int64_t unix_millis, const absl::TimeZone& tz) {
  const absl::TimeZone::CivilInfo ci = tz.At(absl::FromUnixSeconds(FloorDiv(unix_millis, 1000)));
  const absl::CivilSecond cs = ci.cs;
  const absl::CivilDay day(cs);
  JavaFields out;
  auto& f = out.field;
  f[kEra] = 1;  // AD: earlier years are out of range
  f[kYear] = cs.year();
  f[kMonth] = cs.month() - 1;
  f[kDayOfMonth] = cs.day();
  f[kDayOfYear] = absl::GetYearDay(day);
  f[kDayOfWeek] = JavaDayOfWeek(day);
  f[kDayOfWeekInMonth] = (cs.day() - 1) / 7 + 1;
  f[kHourOfDay] = cs.hour();
  f[kAmPm] = cs.hour() / 12;
  f[kHour] = cs.hour() % 12;
  f[kMinute] = cs.minute();
  f[kSecond] = cs.second();
  f[kMillisecond] = FloorMod(unix_millis, 1000);

  // With one minimal day in week 1 the first days of January are always in week 1; the last
  // days of December are in week 1 of the next year when that week holds January 1.
  int64_t week = WeekNumber(absl::CivilDay(cs.year(), 1, 1), day);
  if (week >= 52) {
    const absl::CivilDay next_jan1(cs.year() + 1, 1, 1);
    const absl::CivilDay next_week1 = DayOfWeekOnOrBefore(next_jan1 + 6, kFirstDayOfWeek);
    if (next_week1 - next_jan1 >= kMinimalDaysInFirstWeek && day >= next_week1 - 7) week = 1;
  }
  f[kWeekOfYear] = week;
  f[kWeekOfMonth] = WeekNumber(absl::CivilDay(cs.year(), cs.month(), 1), day);

  // GregorianCalendar.getWeekYear(): the year the week belongs to.
  out.week_year = cs.year();
  if (f[kMonth] == 0 && week >= 52) --out.week_year;
  if (f[kMonth] != 0 && week == 1) ++out.week_year;

  out.utc_offset_s = ci.offset;
  out.is_dst = ci.is_dst;
  out.zone_abbr = ci.zone_abbr;
  out.zone_name = tz.name();
  return out;
}

int64_t JavaWallToUnixMillis(const absl::CivilSecond& wall, int millis, const absl::TimeZone& tz) {
  const absl::TimeZone::TimeInfo ti = tz.At(wall);
  // Java finds the offset by comparing the wall time with each transition's wall time under
  // the *new* offset: a skipped time is still before the transition (old offset, absl's
  // `pre`), a repeated one already after it (new offset, absl's `post`).
  const absl::Time t = ti.kind == absl::TimeZone::TimeInfo::REPEATED ? ti.post : ti.pre;
  return absl::ToUnixSeconds(t) * 1000 + millis;
}

JavaCalendar::JavaCalendar(absl::Time t, absl::TimeZone tz)
    : tz_(std::move(tz)), millis_(absl::ToUnixMillis(t)) {}

absl::Status JavaCalendar::Complete() {
  if (!pending_) return CheckInstant(millis_, tz_);
  absl::StatusOr<int64_t> t = ComputeTime();
  if (!t.ok()) return t.status();
  millis_ = *t;
  pending_ = false;
  return absl::OkStatus();
}

absl::StatusOr<JavaFields> JavaCalendar::Fields() {
  if (absl::Status s = Complete(); !s.ok()) return s;
  return ComputeJavaFields(millis_, tz_);
}

absl::StatusOr<int64_t> JavaCalendar::UnixMillis() {
  if (absl::Status s = Complete(); !s.ok()) return s;
  return millis_;
}

absl::StatusOr<int64_t> JavaCalendar::Get(int field) {
  if (field == kZoneOffset || field == kDstOffset) {
    return absl::InvalidArgumentError(
        absl::StrCat("Calendar field ", field, " (", JavaFieldName(field), ") is not supported"));
  }
  if (field < 0 || field >= kJavaFieldCount) {
    return absl::InvalidArgumentError(absl::StrCat("no Calendar field ", field));
  }
  absl::StatusOr<JavaFields> f = Fields();
  if (!f.ok()) return f.status();
  return f->field[field];
}

void JavaCalendar::LoadFields() {
  fields_ = ComputeJavaFields(millis_, tz_).field;
  stamps_.fill(kStampComputed);
  next_stamp_ = kStampComputed + 1;
}

void JavaCalendar::SetField(int field, int64_t value) {
  fields_[field] = value;
  stamps_[field] = next_stamp_++;
  pending_ = true;
}

absl::Status JavaCalendar::Set(int field, int value) {
  if (field < kYear || field > kMillisecond) {
    return absl::InvalidArgumentError(field >= 0 && field <= kDstOffset
                                          ? absl::StrCat("setting Calendar field ", field, " (",
                                                         JavaFieldName(field), ") is not supported")
                                          : absl::StrCat("no Calendar field ", field));
  }
  // Sets accumulate until the next read, as in Java; the first one starts from the instant.
  if (!pending_) {
    if (absl::Status s = CheckInstant(millis_, tz_); !s.ok()) return s;
    LoadFields();
  }
  SetField(field, value);
  return absl::OkStatus();
}

absl::Status JavaCalendar::Add(int field, int amount) {
  if (amount == 0) return absl::OkStatus();  // Java returns before checking the field
  if (field == kEra || field == kZoneOffset || field == kDstOffset) {
    return absl::InvalidArgumentError(absl::StrCat("adding to Calendar field ", field, " (",
                                                   JavaFieldName(field), ") is not supported"));
  }
  if (field < 0 || field >= kJavaFieldCount) {
    return absl::InvalidArgumentError(absl::StrCat("no Calendar field ", field));
  }
  if (absl::Status s = Complete(); !s.ok()) return s;
  LoadFields();

  if (field == kYear || field == kMonth) {
    // Java sets YEAR/MONTH and, when the day no longer fits, DAY_OF_MONTH to the month's last
    // day; like any set, they resolve on the next read, keeping the wall-clock time.
    int64_t year = fields_[kYear];
    int64_t month = fields_[kMonth];
    if (field == kYear) {
      year += amount;
    } else {
      month += amount;
      year += FloorDiv(month, 12);
      month = FloorMod(month, 12);
    }
    if (year != fields_[kYear]) {
      if (year < kMinYear || year > kMaxYear) return YearOutOfRange(year);
      SetField(kYear, year);
    }
    if (field == kMonth) SetField(kMonth, month);
    if (const int64_t len = MonthLength(year, month); fields_[kDayOfMonth] > len) {
      SetField(kDayOfMonth, len);
    }
    return absl::OkStatus();
  }

  if (field >= kHour) {  // elapsed time, regardless of the wall clock
    static constexpr int64_t kUnit[] = {3600000, 3600000, 60000, 1000, 1};
    const int64_t t = millis_ + int64_t{amount} * kUnit[field - kHour];
    if (absl::Status s = CheckInstant(t, tz_); !s.ok()) return s;
    millis_ = t;
    return absl::OkStatus();
  }

  // Days, weeks and half-days move the date and keep the wall-clock time, even across a DST
  // change (GregorianCalendar.add).
  int64_t days = amount;
  int64_t time_of_day = 0;  // hours, until converted below
  switch (field) {
    case kWeekOfYear:
    case kWeekOfMonth:
    case kDayOfWeekInMonth:
      days *= 7;
      break;
    case kAmPm:
      days = amount / 2;
      time_of_day = 12 * (amount % 2);  // Java's truncating division: -3 is -1 day - 12 h
      break;
    default:  // DAY_OF_MONTH, DAY_OF_YEAR, DAY_OF_WEEK
      break;
  }
  time_of_day =
      (((time_of_day + fields_[kHourOfDay]) * 60 + fields_[kMinute]) * 60 + fields_[kSecond]) *
          1000 +
      fields_[kMillisecond];
  absl::CivilDay day(fields_[kYear], static_cast<int>(fields_[kMonth]) + 1,
                     static_cast<int>(fields_[kDayOfMonth]));
  if (time_of_day >= kMillisPerDay) {
    ++day;
    time_of_day -= kMillisPerDay;
  } else if (time_of_day < 0) {
    --day;
    time_of_day += kMillisPerDay;
  }
  day += days;
  if (day.year() < kMinYear || day.year() > kMaxYear) return YearOutOfRange(day.year());

  // The new date and time under the old offset; if the offset changed, move by the difference
  // unless that changes the date (which happens inside a DST gap: Java keeps the old offset).
  const int64_t old_offset = ComputeJavaFields(millis_, tz_).utc_offset_s * int64_t{1000};
  int64_t t = (day - absl::CivilDay(1970, 1, 1)) * kMillisPerDay + time_of_day - old_offset;
  const int64_t diff = old_offset - ComputeJavaFields(t, tz_).utc_offset_s * int64_t{1000};
  if (diff != 0) {
    const JavaFields moved = ComputeJavaFields(t + diff, tz_);
    if (moved[kYear] == day.year() && moved[kMonth] + 1 == day.month() &&
        moved[kDayOfMonth] == day.day()) {
      t += diff;
    }
  }
  if (absl::Status s = CheckInstant(t, tz_); !s.ok()) return s;
  millis_ = t;
  return absl::OkStatus();
}

int JavaCalendar::SelectFields() const {
  // The most recently set way of naming the day wins; a week-based way counts only with its
  // DAY_OF_WEEK, and on a tie the earlier way in this list wins (Calendar.selectFields).
  const int dow = stamps_[kDayOfWeek];
  const int dom = stamps_[kDayOfMonth];
  const int wom = std::max(stamps_[kWeekOfMonth], dow);
  const int dowim = std::max(stamps_[kDayOfWeekInMonth], dow);
  const int doy = stamps_[kDayOfYear];
  const int woy = std::max(stamps_[kWeekOfYear], dow);
  int best = dom;
  if (wom > best) best = wom;
  if (dowim > best) best = dowim;
  if (doy > best) best = doy;
  if (woy > best) best = woy;

  int mask = Bit(kYear);
  if (best == dom || (best == wom && stamps_[kWeekOfMonth] >= stamps_[kWeekOfYear]) ||
      (best == dowim && stamps_[kDayOfWeekInMonth] >= stamps_[kWeekOfYear])) {
    mask |= Bit(kMonth);
    if (best == dom) {
      mask |= Bit(kDayOfMonth);
    } else {
      mask |= Bit(kDayOfWeek);
      if (wom == dowim) {
        mask |= stamps_[kWeekOfMonth] >= stamps_[kDayOfWeekInMonth] ? Bit(kWeekOfMonth)
                                                                    : Bit(kDayOfWeekInMonth);
      } else {
        mask |= best == wom ? Bit(kWeekOfMonth) : Bit(kDayOfWeekInMonth);
      }
    }
  } else if (best == doy) {
    mask |= Bit(kDayOfYear);
  } else {
    mask |= Bit(kWeekOfYear) | Bit(kDayOfWeek);
  }

  // The hour: HOUR_OF_DAY, or HOUR + AM_PM when either of those was set later.
  const int hour = std::max(stamps_[kHour], stamps_[kAmPm]);
  mask |= hour > stamps_[kHourOfDay] ? Bit(kHour) | Bit(kAmPm) : Bit(kHourOfDay);
  return mask;
}

absl::StatusOr<absl::CivilDay> JavaCalendar::FixedDate(int64_t year, int mask) const {
  // GregorianCalendar.getFixedDate, Gregorian branch.
  int64_t month = 0;
  if (mask & Bit(kMonth)) {
    month = fields_[kMonth];
    year += FloorDiv(month, 12);
    month = FloorMod(month, 12);
  }
  if (year < kMinYear - 1 || year > kMaxYear + 1) return YearOutOfRange(year);
  const absl::CivilDay first(year, static_cast<int>(month) + 1, 1);

  if (mask & Bit(kMonth)) {
    if (mask & Bit(kDayOfMonth)) return first + (fields_[kDayOfMonth] - 1);
    if (mask & Bit(kWeekOfMonth)) {
      absl::CivilDay week1 = DayOfWeekOnOrBefore(first + 6, kFirstDayOfWeek);
      if (week1 - first >= kMinimalDaysInFirstWeek) week1 -= 7;
      week1 = DayOfWeekOnOrBefore(week1 + 6, fields_[kDayOfWeek]);
      // Lenient: days of the neighbouring months count as part of the week.
      return week1 + 7 * (fields_[kWeekOfMonth] - 1);
    }
    const int64_t dowim = fields_[kDayOfWeekInMonth];
    if (dowim >= 0) return DayOfWeekOnOrBefore(first + (7 * dowim - 1), fields_[kDayOfWeek]);
    // Negative: counted back from the end of the month.
    const int64_t last = MonthLength(year, month) + 7 * (dowim + 1);
    return DayOfWeekOnOrBefore(first + (last - 1), fields_[kDayOfWeek]);
  }
  if (mask & Bit(kDayOfYear)) return first + (fields_[kDayOfYear] - 1);
  absl::CivilDay week1 = DayOfWeekOnOrBefore(first + 6, kFirstDayOfWeek);
  if (week1 - first >= kMinimalDaysInFirstWeek) week1 -= 7;
  if (fields_[kDayOfWeek] != kFirstDayOfWeek) {
    week1 = DayOfWeekOnOrBefore(week1 + 6, fields_[kDayOfWeek]);
  }
  return week1 + 7 * (fields_[kWeekOfYear] - 1);
}

absl::StatusOr<int64_t> JavaCalendar::ComputeTime() const {
  const int mask = SelectFields();
  int64_t time_of_day =
      (mask & Bit(kHourOfDay)) ? fields_[kHourOfDay] : fields_[kHour] + 12 * fields_[kAmPm];
  time_of_day = ((time_of_day * 60 + fields_[kMinute]) * 60 + fields_[kSecond]) * 1000 +
                fields_[kMillisecond];
  const int64_t extra_days = FloorDiv(time_of_day, kMillisPerDay);
  time_of_day = FloorMod(time_of_day, kMillisPerDay);

  absl::StatusOr<absl::CivilDay> day = FixedDate(fields_[kYear], mask);
  if (!day.ok()) return day.status();
  const absl::CivilDay date = *day + extra_days;
  if (absl::Status s = CheckYear(date.year()); !s.ok()) return s;
  const absl::CivilSecond wall = absl::CivilSecond(date) + time_of_day / 1000;
  const int64_t t = JavaWallToUnixMillis(wall, static_cast<int>(time_of_day % 1000), tz_);
  if (absl::Status s = CheckInstant(t, tz_); !s.ok()) return s;
  return t;
}

}  // namespace hera::render
