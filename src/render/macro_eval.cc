#include "render/macro_eval.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status.h"
#include "common/strings.h"
#include "render/zdt.h"

namespace hera::render {
namespace {

constexpr const char* kToolMethods =
    "addDay(n), add(field, n), set(field, n), format(pattern), getTime(), getMillis(), "
    "get(field), getToday()";

// What the chain holds after each call: the tool, or a value Velocity would print.
using Value = std::variant<std::monostate, std::string, int64_t>;  // monostate: the tool

std::string Describe(const MacroCall& c) {
  if (c.is_property) return c.name;
  std::string out = c.name + "(";
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i > 0) out += ", ";
    if (const auto* n = std::get_if<int64_t>(&c.args[i])) {
      absl::StrAppend(&out, *n);
    } else {
      absl::StrAppend(&out, "\"", std::get<std::string>(c.args[i]), "\"");
    }
  }
  return out + ")";
}

absl::Status CallError(const MacroCall& c, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Describe(c), ": ", AsAbsl(what)));
}

// Checks `c` has args of the given kinds: 'i' int, 's' string.
absl::Status CheckArgs(const MacroCall& c, std::string_view kinds) {
  if (c.is_property && !kinds.empty()) return CallError(c, "needs arguments");
  if (c.args.size() != kinds.size()) {
    return CallError(c, absl::StrCat("takes ", kinds.size(), " argument",
                                     kinds.size() == 1 ? "" : "s", ", not ", c.args.size()));
  }
  for (size_t i = 0; i < kinds.size(); ++i) {
    const bool is_int = std::holds_alternative<int64_t>(c.args[i]);
    if (is_int != (kinds[i] == 'i')) {
      return CallError(c, absl::StrCat("argument ", i + 1, " must be ",
                                       kinds[i] == 'i' ? "an integer" : "a quoted string"));
    }
  }
  return absl::OkStatus();
}

// The parser keeps integer literals within Java's int.
int IntArg(const MacroCall& c, size_t i) { return static_cast<int>(std::get<int64_t>(c.args[i])); }
const std::string& StrArg(const MacroCall& c, size_t i) { return std::get<std::string>(c.args[i]); }

// The method a Velocity property names: `time` and `Time` both mean getTime().
std::string MethodName(const MacroCall& c) {
  if (!c.is_property) return c.name;
  std::string name = c.name;
  name[0] = absl::ascii_toupper(static_cast<unsigned char>(name[0]));
  return "get" + name;
}

template <typename T>
absl::StatusOr<Value> Wrap(const MacroCall& c, absl::StatusOr<T> v) {
  if (!v.ok()) return WithContext(v.status(), Describe(c));
  return Value(*std::move(v));
}

absl::StatusOr<Value> CallTool(Zdt& zdt, const MacroCall& c) {
  const std::string name = MethodName(c);
  if (name == "addDay" || name == "add" || name == "set") {
    HERA_RETURN_IF_ERROR(CheckArgs(c, name == "addDay" ? "i" : "ii"));
    if (name == "addDay") {
      zdt.AddDay(IntArg(c, 0));
    } else if (name == "add") {
      zdt.Add(IntArg(c, 0), IntArg(c, 1));
    } else {
      zdt.Set(IntArg(c, 0), IntArg(c, 1));
    }
    if (!zdt.status().ok()) return WithContext(zdt.status(), Describe(c));
    return Value();
  }
  if (name == "format") {
    HERA_RETURN_IF_ERROR(CheckArgs(c, "s"));
    return Wrap(c, zdt.Format(StrArg(c, 0)));
  }
  if (name == "get") {
    HERA_RETURN_IF_ERROR(CheckArgs(c, "i"));
    return Wrap(c, zdt.Get(IntArg(c, 0)));
  }
  if (name == "getTime" || name == "getMillis" || name == "getToday") {
    HERA_RETURN_IF_ERROR(CheckArgs(c, ""));
    if (name == "getToday") return Value(zdt.GetToday());
    return Wrap(c, name == "getTime" ? zdt.GetTime() : zdt.GetMillis());
  }
  if (name == "getNowMillis") {
    return CallError(c, "reads the wall clock, so reruns would differ; use getMillis()");
  }
  return CallError(c, absl::StrCat("unknown zdt method (known: ", kToolMethods, ")"));
}

bool IsAscii(std::string_view s) {
  for (const char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return false;
  }
  return true;
}

// java.lang.String methods on a value (a number is printed first, as Velocity's toString).
absl::StatusOr<Value> CallString(const Value& v, const MacroCall& c) {
  std::string s = std::holds_alternative<int64_t>(v) ? absl::StrCat(std::get<int64_t>(v))
                                                     : std::get<std::string>(v);
  const std::string& name = c.name;
  if (c.is_property) {
    return CallError(c, "is not a property of a value; call a method such as substring(0, 6)");
  }
  if (name == "toString" || name == "trim" || name == "toUpperCase" || name == "toLowerCase") {
    HERA_RETURN_IF_ERROR(CheckArgs(c, ""));
    if (name == "trim") return Value(std::string(absl::StripAsciiWhitespace(s)));
    if (name == "toUpperCase") return Value(absl::AsciiStrToUpper(s));
    if (name == "toLowerCase") return Value(absl::AsciiStrToLower(s));
    return Value(std::move(s));
  }
  if (name == "replace") {
    HERA_RETURN_IF_ERROR(CheckArgs(c, "ss"));
    if (StrArg(c, 0).empty()) return CallError(c, "cannot replace the empty string");
    return Value(absl::StrReplaceAll(s, {{StrArg(c, 0), StrArg(c, 1)}}));
  }
  if (name == "length" || name == "substring") {
    // Java counts UTF-16 units; for ASCII text those are bytes.
    if (!IsAscii(s)) return CallError(c, absl::StrCat("needs ASCII text, got \"", s, "\""));
    const int64_t len = static_cast<int64_t>(s.size());
    if (name == "length") {
      HERA_RETURN_IF_ERROR(CheckArgs(c, ""));
      return Value(len);
    }
    HERA_RETURN_IF_ERROR(CheckArgs(c, c.args.size() == 1 ? "i" : "ii"));
    const int64_t begin = IntArg(c, 0);
    const int64_t end = c.args.size() == 2 ? int64_t{IntArg(c, 1)} : len;
    if (begin < 0 || end > len || begin > end) {
      return CallError(c, absl::StrCat("index out of range for \"", s, "\" (length ", len, ")"));
    }
    return Value(s.substr(begin, end - begin));
  }
  return CallError(c,
                   "unknown method on a value (known: substring, length, toUpperCase, "
                   "toLowerCase, trim, replace, toString)");
}

}  // namespace

absl::StatusOr<std::string> EvaluateZdtMacro(const ZdtMacro& macro, absl::Time t,
                                             const absl::TimeZone& tz) {
  if (macro.calls.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("${zdt} alone prints nothing useful; call a method: ", kToolMethods));
  }
  Zdt zdt(t, tz);
  Value value;
  for (const MacroCall& c : macro.calls) {
    absl::StatusOr<Value> next =
        std::holds_alternative<std::monostate>(value) ? CallTool(zdt, c) : CallString(value, c);
    if (!next.ok()) return next.status();
    value = *std::move(next);
  }
  if (std::holds_alternative<std::monostate>(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the chain ends in ", Describe(macro.calls.back()),
                     ", which returns the date tool, not a value; end it with format(...), "
                     "getTime(), getMillis(), get(field) or getToday()"));
  }
  if (const auto* n = std::get_if<int64_t>(&value)) return absl::StrCat(*n);
  return std::get<std::string>(std::move(value));
}

}  // namespace hera::render
