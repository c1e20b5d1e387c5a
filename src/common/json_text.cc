#include "common/json_text.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hera {
namespace {

using nlohmann::json;

// Thrown from the parser's callback to stop it at the first broken rule; caught below.
struct RuleBroken {
  std::string message;
};

}  // namespace

absl::StatusOr<json> ParseJsonText(std::string_view text, const JsonLimits& limits) {
  // nlohmann's parser itself is iterative; the depth check protects what walks the result
  // (copies, dump(), our validators), which recurses.
  std::vector<std::set<std::string>> keys;  // the keys seen in each open object
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event,
                                            json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= limits.max_depth) {
          throw RuleBroken{absl::StrCat("JSON that nests objects and arrays deeper than ",
                                        limits.max_depth, " levels")};
        }
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        break;
      case json::parse_event_t::key:
        if (!keys.back().insert(parsed.get<std::string>()).second) {
          throw RuleBroken{absl::StrCat("JSON that names the key '", parsed.get<std::string>(),
                                        "' twice in one object")};
        }
        break;
      case json::parse_event_t::object_end:
        keys.pop_back();
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const RuleBroken& broken) {
    return absl::InvalidArgumentError(broken.message);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON (at byte ", e.byte, ")"));
  } catch (const json::out_of_range&) {
    // Found by definition_fuzz: "1E400" overflows a double, and nlohmann throws out_of_range
    // rather than parse_error for it.
    return absl::InvalidArgumentError("not valid JSON (a number out of range)");
  }
}

}  // namespace hera
