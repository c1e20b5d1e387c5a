#pragma once
// Step 2 of rendering: `${key}` references to a job's configs.

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace hera::render {

// `text` with every `${key}` whose key is in `configs` replaced by its value, itself expanded
// the same way; other references (shell variables, `${zdt...}`, `${yesterday}` unless
// configured) stay as written. A key is what Hera's pattern `\$\{([^}{$])*\}` captures: any
// text without '{', '}' or '$'.
// Hera followed a value only when it was exactly one other `${key}` and looped forever on a
// cycle; here references anywhere in a value expand, and a cycle is InvalidArgument naming
// its keys in order: "config reference cycle: a -> b -> a".
absl::StatusOr<std::string> ExpandConfigs(std::string_view text,
                                          const std::map<std::string, std::string>& configs);

}  // namespace hera::render
