#include "render/macro_parser.h"

#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera::render {
namespace {

constexpr std::string_view kPrefix = "${zdt";
constexpr size_t kMaxQuote = 120;

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A cursor over one macro; errors name the column inside the macro and quote it.
class Parser {
 public:
  Parser(std::string_view text, size_t begin) : text_(text), begin_(begin), pos_(begin) {
    line_end_ = text.find('\n', begin);
    if (line_end_ == std::string_view::npos) line_end_ = text.size();
  }

  absl::StatusOr<ZdtMacro> Parse() {
    pos_ += kPrefix.size();
    ZdtMacro macro;
    macro.begin = begin_;
    while (!AtEnd() && Peek() == '.') {
      ++pos_;
      absl::StatusOr<MacroCall> call = ParseCall();
      if (!call.ok()) return call.status();
      macro.calls.push_back(*std::move(call));
    }
    if (AtEnd()) return Unbalanced();
    if (Peek() != '}') return Error(absl::StrCat("unexpected '", std::string(1, Peek()), "'"));
    macro.end = ++pos_;
    return macro;
  }

 private:
  bool AtEnd() const { return pos_ >= line_end_; }
  char Peek() const { return text_[pos_]; }
  void SkipSpaces() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t')) ++pos_;
  }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(what), " at column ", pos_ - begin_ + 1,
                                                   " of ", QuoteMacro(text_, begin_)));
  }
  absl::Status Unbalanced() const {
    return absl::InvalidArgumentError(absl::StrCat(
        "unbalanced '${' (no closing '}' on its line) in ", QuoteMacro(text_, begin_)));
  }

  absl::StatusOr<MacroCall> ParseCall() {
    MacroCall call;
    if (AtEnd() || !IsIdentStart(Peek())) return Error("expected a method name");
    const size_t start = pos_;
    // Velocity identifiers are letters, digits, '_' and '-'.
    while (!AtEnd() && IsIdentChar(Peek())) ++pos_;
    call.name = std::string(text_.substr(start, pos_ - start));
    if (AtEnd() || Peek() != '(') {
      call.is_property = true;
      return call;
    }
    ++pos_;
    SkipSpaces();
    if (!AtEnd() && Peek() == ')') {
      ++pos_;
      return call;
    }
    while (true) {
      absl::StatusOr<MacroArg> arg = ParseArg();
      if (!arg.ok()) return arg.status();
      call.args.push_back(*std::move(arg));
      SkipSpaces();
      if (AtEnd()) return Unbalanced();
      if (Peek() == ')') {
        ++pos_;
        return call;
      }
      if (Peek() != ',') return Error("expected ',' or ')'");
      ++pos_;
      SkipSpaces();
    }
  }

  absl::StatusOr<MacroArg> ParseArg() {
    if (AtEnd()) return Unbalanced();
    const char c = Peek();
    if (c == '"' || c == '\'') {
      const size_t close = text_.find(c, pos_ + 1);
      if (close == std::string_view::npos || close >= line_end_) {
        return Error("unterminated string");
      }
      std::string s(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return MacroArg(std::move(s));
    }
    if (c == '-' || IsDigit(c)) {
      const size_t start = pos_;
      const bool negative = c == '-';
      if (negative) ++pos_;
      if (AtEnd() || !IsDigit(Peek())) return Error("expected a digit");
      // Velocity makes a longer literal a Long, which no int parameter accepts.
      constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
      int64_t value = 0;
      bool overflow = false;
      for (; !AtEnd() && IsDigit(Peek()); ++pos_) {
        if (!overflow) value = value * 10 + (Peek() - '0');
        overflow = overflow || value > kIntMax + 1;
      }
      if (negative) value = -value;
      if (overflow || value > kIntMax) {
        pos_ = start;
        return Error("integer outside Java's int range");
      }
      return MacroArg(value);
    }
    return Error("expected an integer or a quoted string");
  }

  std::string_view text_;
  size_t begin_;
  size_t pos_;
  size_t line_end_;
};

}  // namespace

bool StartsZdtMacro(std::string_view text, size_t pos) {
  if (text.substr(pos, kPrefix.size()) != kPrefix) return false;
  const size_t next = pos + kPrefix.size();
  return next >= text.size() || !IsIdentChar(text[next]);
}

absl::StatusOr<ZdtMacro> ParseZdtMacro(std::string_view text, size_t pos) {
  return Parser(text, pos).Parse();
}

std::string QuoteMacro(std::string_view text, size_t begin, size_t end) {
  size_t stop = text.find('\n', begin);
  if (stop == std::string_view::npos) stop = text.size();
  if (end != std::string_view::npos && end < stop) stop = end;
  std::string_view quoted = text.substr(begin, stop - begin);
  if (!quoted.empty() && quoted.back() == '\r') quoted.remove_suffix(1);
  if (quoted.size() <= kMaxQuote) return std::string(quoted);
  return absl::StrCat(AsAbsl(quoted.substr(0, kMaxQuote)), "...");
}

}  // namespace hera::render
