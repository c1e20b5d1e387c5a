#pragma once
// Evaluates a parsed `${zdt...}` macro the way Velocity evaluated it on Hera's date tool.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "render/macro_parser.h"

namespace hera::render {

// The text `macro` renders to, with a fresh Zdt at `t` in `tz`. The chain must end in a value:
// format(...), getTime(), getMillis(), get(n) or getToday() (also as the properties time,
// millis, today), optionally followed by String methods Velocity would call on the result:
// substring(b[,e]), length(), toUpperCase(), toLowerCase(), trim(), replace(a, b),
// toString(). InvalidArgument names the offending call: an unknown method, a wrong number or
// type of arguments, a chain ending on the tool itself, or what the call failed with.
absl::StatusOr<std::string> EvaluateZdtMacro(const ZdtMacro& macro, absl::Time t,
                                             const absl::TimeZone& tz);

}  // namespace hera::render
