#include "render/command_template.h"

#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "render/config_expander.h"
#include "render/shell_words.h"

namespace hera::render {
namespace {

struct SlotInfo {
  const char* name;  // as written between the braces
  const char* key;   // the config key it reads; empty for {script}
  bool list;         // split into words
};

// Indexed by CommandTemplate's Slot.
constexpr SlotInfo kSlots[] = {
    {"script", "", false},
    {"hive", "hera.hive.bin", false},
    {"jar", "hera.java.jar", false},
    {"spark_conf", "hera.spark.conf", true},
    {"java_opts", "hera.java.opts", true},
    {"args", "hera.java.args", true},
};

std::string KnownPlaceholders() {
  std::vector<std::string> names;
  for (const SlotInfo& s : kSlots) names.push_back(absl::StrCat("{", s.name, "}"));
  return absl::StrJoin(names, " ");
}

std::optional<int> FindSlot(std::string_view name) {
  for (int i = 0; i < static_cast<int>(std::size(kSlots)); ++i) {
    if (name == kSlots[i].name) return i;
  }
  return std::nullopt;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The value of `key` with its ${key} references expanded; nullopt when unset or empty.
absl::StatusOr<std::optional<std::string>> ConfigValue(const ConfigMap& configs, const char* key) {
  auto it = configs.find(key);
  if (it == configs.end() || it->second.empty()) return std::nullopt;
  absl::StatusOr<std::string> value = ExpandConfigs(it->second, configs);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config ", key, ": ", value.status().message()));
  }
  return *std::move(value);
}

}  // namespace

absl::StatusOr<CommandTemplate> CommandTemplate::Parse(std::string_view text) {
  auto fail = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("command template '", std::string(text), "': ", why));
  };
  absl::StatusOr<std::vector<ShellWord>> scanned = ScanShellWords(text);
  if (!scanned.ok()) return fail(scanned.status().message());
  if (scanned->empty()) return fail("no command");

  CommandTemplate parsed;
  parsed.text_ = std::string(text);
  for (const ShellWord& parts : *scanned) {
    Word word;
    bool glued_list = false;  // a list placeholder not alone in a bare word
    std::string list_name;
    for (const WordPart& part : parts) {
      const bool may_hold_slots = part.quoting != WordPart::Quoting::kLiteral;
      size_t i = 0;
      while (i < part.text.size()) {
        size_t open = may_hold_slots ? part.text.find('{', i) : std::string::npos;
        size_t end = open;
        if (open != std::string::npos) {
          end = open + 1;
          while (end < part.text.size() && IsNameChar(part.text[end])) ++end;
          // `{` not followed by a name (`{}`, `{ x`) is plain text, as in `find -exec {} \;`.
          if (end == open + 1) end = std::string::npos;
        }
        if (open == std::string::npos || end == std::string::npos) {
          const size_t stop = open == std::string::npos ? part.text.size() : open + 1;
          word.pieces.push_back({false, Slot::kScript, part.text.substr(i, stop - i)});
          i = stop;
          continue;
        }
        if (open > i) word.pieces.push_back({false, Slot::kScript, part.text.substr(i, open - i)});
        const std::string name = part.text.substr(open + 1, end - open - 1);
        if (end == part.text.size() || part.text[end] != '}') {
          return fail(absl::StrCat("placeholder {", name, " is not closed with '}'"));
        }
        const std::optional<int> slot = FindSlot(name);
        if (!slot) {
          return fail(
              absl::StrCat("unknown placeholder {", name, "}; known: ", KnownPlaceholders()));
        }
        if (kSlots[*slot].list && part.quoting == WordPart::Quoting::kNone) {
          if (parts.size() == 1 && open == 0 && end + 1 == part.text.size()) {
            word.split = true;
          } else {
            glued_list = true;
            list_name = name;
          }
        }
        word.pieces.push_back({true, static_cast<Slot>(*slot), ""});
        i = end + 1;
      }
    }
    if (glued_list) {
      return fail(absl::StrCat("{", list_name,
                               "} stands for several words: write it as a word of its own, or "
                               "inside double quotes to pass it as one word"));
    }
    if (word.pieces.empty()) word.pieces.push_back({false, Slot::kScript, ""});  // "" or ''
    parsed.words_.push_back(std::move(word));
  }
  return parsed;
}

absl::StatusOr<std::vector<std::string>> CommandTemplate::Expand(
    const ConfigMap& configs, std::string_view script_name) const {
  std::vector<std::string> argv;
  for (const Word& word : words_) {
    std::string text;
    for (const Piece& piece : word.pieces) {
      if (!piece.is_slot) {
        text += piece.text;
        continue;
      }
      const SlotInfo& info = kSlots[static_cast<int>(piece.slot)];
      if (piece.slot == Slot::kScript) {
        text += script_name;
        continue;
      }
      absl::StatusOr<std::optional<std::string>> value = ConfigValue(configs, info.key);
      if (!value.ok()) return value.status();
      if (piece.slot == Slot::kHive) {
        text += value->value_or("hive");
      } else if (piece.slot == Slot::kJar) {
        if (!*value) {
          return absl::InvalidArgumentError(
              absl::StrCat("config ", info.key, " is not set: the command '", text_,
                           "' runs the jar it names (set it on the job or one of its groups)"));
        }
        text += **value;
      } else if (word.split) {
        if (!*value) continue;  // nothing to split; `text` stays empty and is dropped below
        absl::StatusOr<std::vector<std::string>> words = SplitShellWords(**value);
        if (!words.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("config ", info.key, ": ", words.status().message()));
        }
        for (std::string& w : *words) argv.push_back(std::move(w));
      } else {
        text += value->value_or("");  // quoted: one word, as written
      }
    }
    if (!word.split) argv.push_back(std::move(text));
  }
  if (argv.empty() || argv[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the command '", text_, "' leaves no program to run with these configs"));
  }
  return argv;
}

}  // namespace hera::render
