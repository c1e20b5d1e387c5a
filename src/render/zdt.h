#pragma once
// `zdt`, the date tool Hera puts in its date macros (com.dfire.common.util.HeraDateTool in
// scxwhite/hera): a Calendar at the action's scheduled time in the job's zone.
//
// Where it follows Java, and where it does not:
//  - Arithmetic and fields are java.util.GregorianCalendar's (see JavaCalendar): Calendar
//    field numbers (1 YEAR, 2 MONTH counted from 0, 5 DAY_OF_MONTH, 6 DAY_OF_YEAR,
//    7 DAY_OF_WEEK, 10 HOUR, 11 HOUR_OF_DAY, 12 MINUTE, 13 SECOND, 14 MILLISECOND, and
//    3, 4, 8, 9), lenient set (set(5,31) in February lands in March), add pinning the day when
//    months change (Mar 31 add(2,-1) is Feb 28 or 29), day arithmetic keeping the wall-clock
//    time across DST changes, weeks as in Locale.US.
//  - format() is SimpleDateFormat with Locale.US text (Hera used the JVM's default locale; on
//    a zh_CN JVM "MMM" printed "1月"), in the job's zone rather than the JVM's.
//  - getToday() is the scheduled day ("yyyy-MM-dd"); Hera's read the wall clock, so a rerun of
//    an old action printed the rerun's day. getNowMillis() is not offered for the same reason.
//  - Dates must stay within years 1900-9999 (before 1900 Java ignores tzdata's local mean
//    time, before 1582 it is Julian); ERA, ZONE_OFFSET and DST_OFFSET cannot be set or added
//    to, and get() of the last two is refused (tzdata does not split the offset).
// Not thread-safe; each macro gets a fresh tool, as in Hera.
//
// Methods chain like Java's. The first failure sticks: later calls do nothing, and the
// value-returning ones (and status()) report it.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "render/java_calendar.h"

namespace hera::render {

class Zdt {
 public:
  // The tool at `t` (to the millisecond) in `tz`.
  Zdt(absl::Time t, absl::TimeZone tz);

  // Calendar.add(DAY_OF_YEAR, amount).
  Zdt& AddDay(int amount);
  // Calendar.add(field, amount).
  Zdt& Add(int field, int amount);
  // Calendar.set(field, value).
  Zdt& Set(int field, int value);

  // The current time formatted with a SimpleDateFormat pattern; errors for a bad pattern.
  absl::StatusOr<std::string> Format(std::string_view pattern);
  // Seconds since the epoch (Java's millis / 1000, truncated toward zero).
  absl::StatusOr<int64_t> GetTime();
  // Milliseconds since the epoch.
  absl::StatusOr<int64_t> GetMillis();
  // Calendar.get(field) for fields 0-14.
  absl::StatusOr<int64_t> Get(int field);
  // The scheduled day as "yyyy-MM-dd", whatever the chain did before.
  std::string GetToday() const;

  // OK, or the first failure of the chain so far.
  const absl::Status& status() const { return status_; }

 private:
  absl::Time base_;
  JavaCalendar calendar_;
  absl::Status status_;
};

}  // namespace hera::render
