#pragma once
// The syntax of Hera's date macros, `${zdt.addDay(-1).format("yyyyMMdd")}`: the subset of
// Apache Velocity that Hera scripts use on the `zdt` object.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace hera::render {

// An argument: an integer literal (Velocity's: optional '-', digits; within Java int) or a
// string literal in double or single quotes (no escapes).
using MacroArg = std::variant<int64_t, std::string>;

// One `.name(args)` step; `.name` without parentheses is a Velocity property read (`time`
// means getTime()).
struct MacroCall {
  std::string name;
  bool is_property = false;
  std::vector<MacroArg> args;
};

// A parsed macro: where it sits in the text and its calls in order.
struct ZdtMacro {
  size_t begin = 0;  // offset of "${"
  size_t end = 0;    // one past the closing '}'
  std::vector<MacroCall> calls;
};

// True when a `${zdt` macro starts at `pos`: "${zdt" not followed by a letter, digit or '_'
// (so the shell variable `${zdtable}` is left alone).
bool StartsZdtMacro(std::string_view text, size_t pos);

// Parses the macro starting at `pos` (StartsZdtMacro(text, pos) is true):
//   ${zdt} | ${zdt.call.call...}   call := name | name(arg, ...)   spaces allowed in (...)
// A macro ends at its line's end. InvalidArgument quotes the macro text, e.g.
// "unbalanced '${' in ${zdt.addDay(-1)", "expected ')' at column 15 of ${zdt.addDay(-1 2)}".
absl::StatusOr<ZdtMacro> ParseZdtMacro(std::string_view text, size_t pos);

// The macro text for error messages: text[begin, end), or to the end of its line when `end` is
// npos, shortened to 120 bytes.
std::string QuoteMacro(std::string_view text, size_t begin, size_t end = std::string_view::npos);

}  // namespace hera::render
