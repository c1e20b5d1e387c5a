#include "render/config_expander.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hera::render {
namespace {

// Guards against configs that expand without end in practice: a chain nested this deep, or
// keys doubling each other's text into gigabytes.
constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxOutput = 16 << 20;

class Expander {
 public:
  explicit Expander(const std::map<std::string, std::string>& configs) : configs_(configs) {}

  absl::StatusOr<std::string> Expand(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (true) {
      const size_t ref = text.find("${", pos);
      if (ref == std::string_view::npos) break;
      // The key runs to the first '}', and may not hold '{' or '$'.
      const size_t close = text.find_first_of("{}$", ref + 2);
      if (close == std::string_view::npos || text[close] != '}') {
        out.append(text.substr(pos, ref + 1 - pos));  // not a reference: keep the '$'
        pos = ref + 1;
        continue;
      }
      const std::string key(text.substr(ref + 2, close - ref - 2));
      out.append(text.substr(pos, ref - pos));
      pos = close + 1;
      const auto it = configs_.find(key);
      if (it == configs_.end()) {
        out.append(text.substr(ref, pos - ref));
        continue;
      }
      absl::StatusOr<const std::string*> value = Value(key, it->second);
      if (!value.ok()) return value.status();
      out += **value;
      if (out.size() > kMaxOutput) {
        return absl::InvalidArgumentError(absl::StrCat(
            "expanding ${", key, "} makes the text longer than ", kMaxOutput >> 20, " MiB"));
      }
    }
    out.append(text.substr(pos));
    return out;
  }

 private:
  // The expanded value of `key`, computed once.
  absl::StatusOr<const std::string*> Value(const std::string& key, const std::string& raw) {
    if (const auto done = expanded_.find(key); done != expanded_.end()) return &done->second;
    if (const auto on_stack = std::find(stack_.begin(), stack_.end(), key);
        on_stack != stack_.end()) {
      std::vector<std::string> cycle(on_stack, stack_.end());
      cycle.push_back(key);
      return absl::InvalidArgumentError(
          absl::StrCat("config reference cycle: ", absl::StrJoin(cycle, " -> ")));
    }
    if (stack_.size() >= kMaxDepth) {
      return absl::InvalidArgumentError(absl::StrCat("config references nest deeper than ",
                                                     kMaxDepth, " levels at ${", key, "}"));
    }
    stack_.push_back(key);
    absl::StatusOr<std::string> value = Expand(raw);
    stack_.pop_back();
    if (!value.ok()) return value.status();
    return &(expanded_[key] = *std::move(value));
  }

  const std::map<std::string, std::string>& configs_;
  std::map<std::string, std::string> expanded_;
  std::vector<std::string> stack_;  // keys being expanded, outermost first
};

}  // namespace

absl::StatusOr<std::string> ExpandConfigs(std::string_view text,
                                          const std::map<std::string, std::string>& configs) {
  return Expander(configs).Expand(text);
}

}  // namespace hera::render
