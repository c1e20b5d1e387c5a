#pragma once
// Parsing JSON that comes from outside the process (request bodies, stored definitions, a
// master's answers): nesting is bounded, so no document can exhaust the stack of the code that
// walks it, and an object may not name a key twice (the last one would win silently).

#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace hera {

struct JsonLimits {
  // Objects and arrays inside each other. Hera's own documents nest a few levels; 64 leaves
  // room for any configuration a person writes.
  int max_depth = 64;
};

// The document `text` holds. InvalidArgument when it is not JSON, nests deeper than
// `limits.max_depth` or repeats a key in one object; the message completes "the body is …"
// ("not valid JSON (at byte 12)", "JSON that names the key 'x' twice in one object").
absl::StatusOr<nlohmann::json> ParseJsonText(std::string_view text, const JsonLimits& limits = {});

}  // namespace hera
