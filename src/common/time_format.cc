#include "common/time_format.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera {

std::string FormatIsoTime(absl::Time t, const absl::TimeZone& tz) {
  const absl::Duration sub = t - absl::FromUnixSeconds(absl::ToUnixSeconds(t));
  const char* fmt = sub >= absl::Milliseconds(1) && sub < absl::Seconds(1)
                        ? "%Y-%m-%dT%H:%M:%E3S%Ez"
                        : "%Y-%m-%dT%H:%M:%S%Ez";
  return absl::FormatTime(fmt, t, tz);
}

absl::StatusOr<absl::Time> ParseIsoTime(std::string_view text, const absl::TimeZone& tz) {
  const std::string s(text);
  absl::Time t;
  std::string err;
  // With an offset ('Z' or ±HH:MM) first, then as local time in `tz`.
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*SZ", "%Y-%m-%dT%H:%M:%E*S",
                          "%Y-%m-%d %H:%M:%E*S", "%Y-%m-%d"}) {
    if (absl::ParseTime(fmt, s, tz, &t, &err)) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", AsAbsl(text), "' is not an ISO-8601 time (e.g. 2026-11-23T08:00:00+08:00)"));
}

}  // namespace hera
