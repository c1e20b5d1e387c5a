#pragma once
// The names resources are stored and fetched under (`hera://name`).

#include <string_view>

#include "absl/status/status.h"

namespace hera::master {

// The longest name, in bytes.
inline constexpr size_t kMaxResourceNameBytes = 200;

// OK when `name` can be a resource: 1 to 200 bytes, not starting with '.', and without '/',
// "..", control characters, whitespace, '?', '#' or '\'. InvalidArgument quotes the name and
// says which rule it breaks.
absl::Status ValidateResourceName(std::string_view name);

}  // namespace hera::master
