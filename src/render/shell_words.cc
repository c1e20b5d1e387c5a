#include "render/shell_words.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace hera::render {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Collects parts of the word under construction, merging runs of the same quoting.
class WordBuilder {
 public:
  void Add(WordPart::Quoting quoting, std::string_view text) {
    started_ = true;
    if (!word_.empty() && word_.back().quoting == quoting) {
      word_.back().text.append(text);
    } else {
      word_.push_back({std::string(text), quoting});
    }
  }
  // Marks the word as present even if empty ("" is a word of its own).
  void Start() { started_ = true; }
  void FinishInto(std::vector<ShellWord>* words) {
    if (!started_) return;
    if (word_.empty()) word_.push_back({"", WordPart::Quoting::kLiteral});
    words->push_back(std::move(word_));
    word_.clear();
    started_ = false;
  }

 private:
  ShellWord word_;
  bool started_ = false;
};

}  // namespace

absl::StatusOr<std::vector<ShellWord>> ScanShellWords(std::string_view text) {
  using Q = WordPart::Quoting;
  std::vector<ShellWord> words;
  WordBuilder word;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (IsBlank(c)) {
      word.FinishInto(&words);
      ++i;
    } else if (c == '\\') {
      if (i + 1 == text.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("backslash at the end (column ", i + 1, ") escapes nothing"));
      }
      // sh drops a backslash-newline altogether (a line continuation).
      if (text[i + 1] != '\n') word.Add(Q::kLiteral, text.substr(i + 1, 1));
      i += 2;
    } else if (c == '\'') {
      const size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("unbalanced single quote opened at column ", i + 1));
      }
      word.Start();
      if (close > i + 1) word.Add(Q::kLiteral, text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (c == '"') {
      const size_t open = i++;
      word.Start();
      for (;;) {
        if (i >= text.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("unbalanced double quote opened at column ", open + 1));
        }
        const char d = text[i];
        if (d == '"') {
          ++i;
          break;
        }
        // Inside double quotes sh gives a backslash meaning only before these characters.
        if (d == '\\' && i + 1 < text.size() &&
            std::string_view("\"\\$`\n").find(text[i + 1]) != std::string_view::npos) {
          if (text[i + 1] != '\n') word.Add(Q::kLiteral, text.substr(i + 1, 1));
          i += 2;
          continue;
        }
        word.Add(Q::kDouble, text.substr(i, 1));
        ++i;
      }
    } else {
      word.Add(Q::kNone, text.substr(i, 1));
      ++i;
    }
  }
  word.FinishInto(&words);
  return words;
}

absl::StatusOr<std::vector<std::string>> SplitShellWords(std::string_view text) {
  absl::StatusOr<std::vector<ShellWord>> scanned = ScanShellWords(text);
  if (!scanned.ok()) return scanned.status();
  std::vector<std::string> words;
  words.reserve(scanned->size());
  for (const ShellWord& word : *scanned) {
    std::string joined;
    for (const WordPart& part : word) joined += part.text;
    words.push_back(std::move(joined));
  }
  return words;
}

}  // namespace hera::render
