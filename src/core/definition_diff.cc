#include "core/definition_diff.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

namespace hera::core {
namespace {

using nlohmann::json;

const json& NullJson() {
  static const json* const kNull = new json(nullptr);
  return *kNull;
}

bool IsObject(const json* j) { return j != nullptr && j->is_object(); }
bool IsAbsent(const json* j) { return j == nullptr || j->is_null(); }

// Appends the leaves under `path` where `before` and `after` differ; null means absent.
void Walk(const std::string& path, const json* before, const json* after,
          std::vector<FieldChange>* out) {
  const bool recurse = (IsObject(before) || IsAbsent(before)) &&
                       (IsObject(after) || IsAbsent(after)) &&
                       (IsObject(before) || IsObject(after));
  if (recurse) {
    // Keys of both sides in order; json objects iterate their keys sorted.
    std::vector<std::string> keys;
    if (IsObject(before)) {
      for (const auto& [k, v] : before->items()) keys.push_back(k);
    }
    if (IsObject(after)) {
      for (const auto& [k, v] : after->items()) {
        if (!IsObject(before) || !before->contains(k)) keys.push_back(k);
      }
    }
    std::sort(keys.begin(), keys.end());
    for (const std::string& k : keys) {
      const json* b = IsObject(before) && before->contains(k) ? &(*before)[k] : nullptr;
      const json* a = IsObject(after) && after->contains(k) ? &(*after)[k] : nullptr;
      Walk(path.empty() ? k : path + "." + k, b, a, out);
    }
    return;
  }
  const json& b = before ? *before : NullJson();
  const json& a = after ? *after : NullJson();
  if (b != a) out->push_back(FieldChange{path, b, a});
}

// One step of an alignment: `index` is into the old lines for ' ' and '-', the new for '+'.
struct Step {
  char op;
  size_t index;
};

// Aligns old lines a[a_lo, a_hi) with new lines b[b_lo, b_hi) (lines as ids) by their longest
// common subsequence, appending the steps to `out` (Hirschberg: linear space).
class Aligner {
 public:
  Aligner(std::span<const uint32_t> a, std::span<const uint32_t> b, std::vector<Step>* out)
      : a_(a), b_(b), out_(out) {}

  void Align(size_t a_lo, size_t a_hi, size_t b_lo, size_t b_hi) {
    if (a_lo == a_hi) {
      for (size_t j = b_lo; j < b_hi; ++j) out_->push_back({'+', j});
      return;
    }
    if (b_lo == b_hi) {
      for (size_t i = a_lo; i < a_hi; ++i) out_->push_back({'-', i});
      return;
    }
    if (a_hi - a_lo == 1) {
      for (size_t j = b_lo; j < b_hi; ++j) {
        if (b_[j] != a_[a_lo]) continue;
        for (size_t k = b_lo; k < j; ++k) out_->push_back({'+', k});
        out_->push_back({' ', a_lo});
        for (size_t k = j + 1; k < b_hi; ++k) out_->push_back({'+', k});
        return;
      }
      out_->push_back({'-', a_lo});
      for (size_t k = b_lo; k < b_hi; ++k) out_->push_back({'+', k});
      return;
    }
    const size_t mid = a_lo + (a_hi - a_lo) / 2;
    const size_t m = b_hi - b_lo;
    // forward[j]: LCS of a[a_lo, mid) and b[b_lo, b_lo + j);
    // backward[j]: LCS of a[mid, a_hi) and the last j lines of b[b_lo, b_hi).
    const std::vector<uint32_t> forward = Row(a_lo, mid, b_lo, b_hi, /*reverse=*/false);
    const std::vector<uint32_t> backward = Row(mid, a_hi, b_lo, b_hi, /*reverse=*/true);
    size_t split = 0;
    uint32_t best = 0;
    for (size_t j = 0; j <= m; ++j) {
      const uint32_t total = forward[j] + backward[m - j];
      if (j == 0 || total > best) {
        best = total;
        split = j;
      }
    }
    Align(a_lo, mid, b_lo, b_lo + split);
    Align(mid, a_hi, b_lo + split, b_hi);
  }

 private:
  // The last row of the LCS table of a[a_lo, a_hi) against b[b_lo, b_hi), both read
  // backwards when `reverse`.
  std::vector<uint32_t> Row(size_t a_lo, size_t a_hi, size_t b_lo, size_t b_hi,
                            bool reverse) const {
    const size_t m = b_hi - b_lo;
    std::vector<uint32_t> prev(m + 1, 0), cur(m + 1, 0);
    for (size_t step = 0; step < a_hi - a_lo; ++step) {
      const uint32_t x = reverse ? a_[a_hi - 1 - step] : a_[a_lo + step];
      for (size_t j = 1; j <= m; ++j) {
        const uint32_t y = reverse ? b_[b_hi - j] : b_[b_lo + j - 1];
        cur[j] = x == y ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
      }
      std::swap(prev, cur);
    }
    return prev;
  }

  std::span<const uint32_t> a_, b_;
  std::vector<Step>* out_;
};

// Dense ids for lines, so the alignment compares integers. A last line without '\n' gets an
// id of its own: "a" and "a\n" differ in their last line, as in git's "\ No newline".
class LineIds {
 public:
  std::vector<uint32_t> Of(std::string_view text, const std::vector<std::string_view>& lines) {
    std::vector<uint32_t> ids;
    ids.reserve(lines.size());
    const bool open_end = !text.empty() && text.back() != '\n';
    for (size_t i = 0; i < lines.size(); ++i) {
      auto& map = open_end && i + 1 == lines.size() ? open_end_ : ids_;
      auto [it, inserted] = map.try_emplace(lines[i], next_);
      if (inserted) ++next_;
      ids.push_back(it->second);
    }
    return ids;
  }

 private:
  std::unordered_map<std::string_view, uint32_t> ids_, open_end_;
  uint32_t next_ = 0;
};

}  // namespace

std::vector<FieldChange> DiffDefinitions(const json& before, const json& after) {
  const json empty = json::object();
  std::vector<FieldChange> out;
  Walk("", before.is_object() ? &before : &empty, after.is_object() ? &after : &empty, &out);
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

LineDiff DiffLines(std::string_view before, std::string_view after, size_t max_aligned) {
  const std::vector<std::string_view> a_lines = SplitLines(before);
  const std::vector<std::string_view> b_lines = SplitLines(after);
  LineIds line_ids;
  const std::vector<uint32_t> a = line_ids.Of(before, a_lines);
  const std::vector<uint32_t> b = line_ids.Of(after, b_lines);
  const size_t n = a.size(), m = b.size();

  // The common head and tail cost O(n) and are all most edits leave to align.
  size_t head = 0;
  while (head < n && head < m && a[head] == b[head]) ++head;
  size_t tail = 0;
  while (tail < n - head && tail < m - head && a[n - 1 - tail] == b[m - 1 - tail]) ++tail;

  LineDiff diff;
  std::vector<Step> steps;
  for (size_t i = 0; i < head; ++i) steps.push_back({' ', i});
  const size_t a_mid = n - head - tail, b_mid = m - head - tail;
  if (a_mid > max_aligned || b_mid > max_aligned) {
    for (size_t i = head; i < n - tail; ++i) steps.push_back({'-', i});
    for (size_t j = head; j < m - tail; ++j) steps.push_back({'+', j});
    diff.exact = false;
  } else {
    Aligner(a, b, &steps).Align(head, n - tail, head, m - tail);
  }
  for (size_t i = n - tail; i < n; ++i) steps.push_back({' ', i});

  // Within each changed block, removed lines first, then added ones (as unified diffs read).
  diff.lines.reserve(steps.size());
  std::vector<DiffLine> added;
  auto flush = [&] {
    for (auto& line : added) diff.lines.push_back(std::move(line));
    added.clear();
  };
  for (const Step& s : steps) {
    if (s.op == '+') {
      added.push_back({'+', std::string(b_lines[s.index])});
      continue;
    }
    if (s.op == ' ') flush();
    diff.lines.push_back({s.op, std::string(a_lines[s.index])});
  }
  flush();
  return diff;
}

json ChangesToJson(const std::vector<FieldChange>& changes) {
  json out = json::array();
  for (const FieldChange& c : changes) {
    json entry = {{"field", c.field}, {"before", c.before}, {"after", c.after}};
    const auto text = [](const json& j) -> std::optional<std::string_view> {
      if (j.is_null()) return std::string_view();
      if (j.is_string()) return std::string_view(j.get_ref<const std::string&>());
      return std::nullopt;
    };
    const auto before = text(c.before), after = text(c.after);
    if (c.field == "script" && before && after) {
      const LineDiff diff = DiffLines(*before, *after);
      json lines = json::array();
      for (const DiffLine& l : diff.lines) {
        lines.push_back({{"op", std::string(1, l.op)}, {"text", l.text}});
      }
      entry["lines"] = std::move(lines);
      if (!diff.exact) entry["lines_exact"] = false;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace hera::core
