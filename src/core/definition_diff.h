#pragma once
// Differences between two saved job definitions (SEMANTICS.md §10: revisions are diffed side
// by side): which fields changed, as dotted paths, and a line diff of the script.
// Pure (no IO, no clock, no threads); every function is safe to call from any thread.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace hera::core {

// One leaf that differs. `before`/`after` are null where the field is absent on that side.
struct FieldChange {
  std::string field;  // dotted path: "script", "schedule.cron", "configs.queue"
  nlohmann::json before;
  nlohmann::json after;
  bool operator==(const FieldChange&) const = default;
};

// The fields that differ between two definitions, ordered by path (keys sorted level by
// level). Objects are walked recursively (so `retry.count` changes alone); arrays and scalars
// compare as whole values (`schedule.depends_on` is one field); a field absent on one side
// compares as null. A non-object on either top-level side counts as `{}`.
std::vector<FieldChange> DiffDefinitions(const nlohmann::json& before, const nlohmann::json& after);

// One line of a unified line diff: ' ' kept, '-' only before, '+' only after.
struct DiffLine {
  char op = ' ';
  std::string text;  // without its '\n'
  bool operator==(const DiffLine&) const = default;
};

struct LineDiff {
  // Every line of both texts in order; inside a changed block the '-' lines come first.
  std::vector<DiffLine> lines;
  // False when the changed middle was too large to align line by line and is shown as all of
  // its old lines removed and all of its new lines added (still a correct diff, not a minimal
  // one).
  bool exact = true;
};

// Above this many lines on either side of the changed middle, DiffLines falls back to a whole
// replace (LCS alignment costs O(n·m) time).
inline constexpr size_t kMaxAlignedLines = 5000;

// The lines of `text`, split at '\n'; a final '\n' does not start another line, so "" and
// "\n"-terminated texts have no empty last line.
std::vector<std::string_view> SplitLines(std::string_view text);

// A minimal (longest-common-subsequence) line diff of `before` → `after`. The common head and
// tail are matched first; the middle is aligned in O(n·m) time and O(n + m) space (Hirschberg)
// when both sides have at most `max_aligned` lines, else replaced whole (`exact` = false).
LineDiff DiffLines(std::string_view before, std::string_view after,
                   size_t max_aligned = kMaxAlignedLines);

// The API shape of `changes`: [{"field","before","after"}], where a `script` change whose
// sides are both strings also carries "lines":[{"op":" "|"-"|"+","text"}] (and
// "lines_exact": false when DiffLines fell back to a whole replace).
nlohmann::json ChangesToJson(const std::vector<FieldChange>& changes);

}  // namespace hera::core
