#pragma once
// Text for API values in human output: JSON fields, times, durations, run outcomes.

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "cli/ctl_api.h"
#include "cli/ctl_table_printer.h"

namespace hera::cli {

// `obj[key]` as display text: strings as-is, numbers and booleans printed, null or missing as
// "-", arrays/objects as compact JSON.
std::string FieldText(const Json& obj, std::string_view key);

// An ISO-8601 instant shown as "2026-11-23 08:00:05" in `tz`; "-" for null/missing; the input
// unchanged when it does not parse.
std::string LocalTimeText(const Json& obj, std::string_view key,
                          const absl::TimeZone& tz = absl::LocalTimeZone());

// "0.4s", "45s", "3m05s", "2h03m", "3d04h".
std::string DurationText(absl::Duration d);

// started_at → ended_at (or → `now` while running); "-" before the run started.
std::string RunDurationText(const Json& run, absl::Time now);

// "0", "7", "signal 9" or "-" from exit_code/signal.
std::string RunExitText(const Json& run);

// The colour a run status is shown in on a terminal.
Color StatusColor(std::string_view status);

// On stderr, when a list response holds fewer items than its "total":
// "(1 of 30 runs shown; use --limit to see more)".
void PrintMoreNote(const Json& resp, size_t shown, std::string_view noun);

}  // namespace hera::cli
