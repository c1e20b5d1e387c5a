#pragma once
// ISO-8601 text for instants, as the API and the CLI show them.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hera {

// "2026-11-23T08:00:00.123+08:00" (milliseconds only when non-zero) in `tz`.
std::string FormatIsoTime(absl::Time t, const absl::TimeZone& tz = absl::UTCTimeZone());

// Parses an ISO-8601 instant with a 'Z' or ±HH:MM offset, or without one in `tz`.
absl::StatusOr<absl::Time> ParseIsoTime(std::string_view text,
                                        const absl::TimeZone& tz = absl::UTCTimeZone());

// Microseconds since the epoch: the unit times are stored in.
inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

}  // namespace hera
