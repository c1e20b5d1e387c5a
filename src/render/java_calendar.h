#pragma once
// java.util.GregorianCalendar (as Calendar.getInstance() builds it for Locale.US) over absl time
// zones, so the date arithmetic in Hera scripts gives what Hera's Java gave.

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace hera::render {

// java.util.Calendar field numbers. MONTH is 0-based (0 = January); DAY_OF_WEEK is 1 = Sunday
// .. 7 = Saturday; AM_PM is 0 = AM.
enum JavaField : int {
  kEra = 0,
  kYear = 1,
  kMonth = 2,
  kWeekOfYear = 3,
  kWeekOfMonth = 4,
  kDayOfMonth = 5,
  kDayOfYear = 6,
  kDayOfWeek = 7,
  kDayOfWeekInMonth = 8,
  kAmPm = 9,
  kHour = 10,
  kHourOfDay = 11,
  kMinute = 12,
  kSecond = 13,
  kMillisecond = 14,
  kZoneOffset = 15,
  kDstOffset = 16,
};
// ERA..MILLISECOND: the fields this emulation keeps.
inline constexpr int kJavaFieldCount = 15;
// "YEAR", "DAY_OF_MONTH", ...; "field <n>" for numbers Java does not define.
std::string JavaFieldName(int field);

// Supported years. Before 1900 Java's legacy TimeZone ignores tzdata's local mean time (and
// before 1582-10-15 it switches to the Julian calendar), so we refuse dates where Java and
// tzdata would disagree, and stop at four-digit years.
inline constexpr int64_t kMinYear = 1900;
inline constexpr int64_t kMaxYear = 9999;

// Everything Calendar.get() and SimpleDateFormat read from one instant in one zone.
struct JavaFields {
  std::array<int64_t, kJavaFieldCount> field{};  // indexed by JavaField
  int64_t week_year = 0;                         // Calendar.getWeekYear() (pattern letter Y)
  int utc_offset_s = 0;                          // ZONE_OFFSET + DST_OFFSET, in seconds
  bool is_dst = false;
  std::string zone_abbr;  // tzdata abbreviation: "CST", "EDT", "+08"
  std::string zone_name;  // IANA name the zone was loaded with

  int64_t operator[](int f) const { return field[f]; }
};

// The fields of `unix_millis` in `tz`. Weeks start on Sunday and week 1 of a year or month is
// the one holding its first day (Locale.US). REQUIRES: the year is within kMinYear..kMaxYear.
JavaFields ComputeJavaFields(int64_t unix_millis, const absl::TimeZone& tz);

// The instant a wall-clock reading denotes in `tz`, as Java's Calendar resolves it: a time
// skipped by a forward transition takes the offset from before it (02:30 on a spring-forward
// day in New York is 03:30 EDT); a repeated time takes the later instant (01:30 on the
// fall-back day is 01:30 EST).
int64_t JavaWallToUnixMillis(const absl::CivilSecond& wall, int millis, const absl::TimeZone& tz);

// A mutable calendar: Java's lenient `set` (fields are stored and resolved together on the next
// read, so Feb 31 becomes Mar 2 or 3), `add` (months and years pin the day to the month's
// length; days keep the wall-clock time across DST changes) and `get`.
// Not thread-safe; cheap to copy.
class JavaCalendar {
 public:
  // The calendar at `t` (truncated to the millisecond, as java.util.Date is) in `tz`.
  JavaCalendar(absl::Time t, absl::TimeZone tz);

  // Calendar.add(field, amount); `int` as in Java, which also keeps the arithmetic far from
  // overflow. InvalidArgument for ZONE_OFFSET, DST_OFFSET or an unknown
  // field (Java throws IllegalArgumentException), unless amount is 0, which Java ignores;
  // OutOfRange when the result leaves kMinYear..kMaxYear.
  absl::Status Add(int field, int amount);

  // Calendar.set(field, value), resolved lazily like Java's. InvalidArgument for fields other
  // than YEAR..MILLISECOND (1-14): changing the era or the zone offset is not supported.
  absl::Status Set(int field, int value);

  // Calendar.get(field) for ERA..MILLISECOND (0-14). OutOfRange when pending sets resolve to a
  // date outside kMinYear..kMaxYear.
  absl::StatusOr<int64_t> Get(int field);

  // Milliseconds since the epoch (Calendar.getTimeInMillis()); errors as for Get.
  absl::StatusOr<int64_t> UnixMillis();

  // All fields at the current instant; errors as for Get.
  absl::StatusOr<JavaFields> Fields();

  const absl::TimeZone& zone() const { return tz_; }

 private:
  // Resolves pending sets into millis_ (Java's complete()).
  absl::Status Complete();
  // Loads fields_ from millis_, every field stamped "computed".
  void LoadFields();
  // Java's GregorianCalendar.computeTime(): fields_ and stamps_ to an instant.
  absl::StatusOr<int64_t> ComputeTime() const;
  // Java's Calendar.selectFields(): the bit mask of fields computeTime() uses.
  int SelectFields() const;
  absl::StatusOr<absl::CivilDay> FixedDate(int64_t year, int mask) const;
  void SetField(int field, int64_t value);

  absl::TimeZone tz_;
  int64_t millis_ = 0;  // the instant; stale while pending_
  // Java keeps a value and a "stamp" per field: 1 = computed from the instant, larger = set by
  // the caller, later sets larger. computeTime() picks, among the ways to name a day (month +
  // day, day of year, week + weekday, ...), the one set most recently.
  std::array<int64_t, kJavaFieldCount> fields_{};
  std::array<int, kJavaFieldCount> stamps_{};
  int next_stamp_ = 2;
  bool pending_ = false;  // fields_ hold sets not yet resolved into millis_
};

}  // namespace hera::render
