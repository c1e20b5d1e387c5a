#include "cron/cron_parse.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"

namespace hera::cron::internal {
namespace {

enum class Kind { kSecond, kMinute, kHour, kDayOfMonth, kMonth, kDayOfWeek, kYear };

struct Spec {
  Kind kind;
  const char* name;
  int min;
  int max;
  int max_step;  // Quartz: "Increment > 60" etc.; cronie: high + 1 - low
};

constexpr Spec kQuartzSpecs[] = {
    {Kind::kSecond, "second", 0, 59, 59},
    {Kind::kMinute, "minute", 0, 59, 59},
    {Kind::kHour, "hour", 0, 23, 23},
    {Kind::kDayOfMonth, "day-of-month", 1, 31, 31},
    {Kind::kMonth, "month", 1, 12, 12},
    {Kind::kDayOfWeek, "day-of-week", 1, 7, 7},
    {Kind::kYear, "year", kMinYear, kQuartzMaxYear, kQuartzMaxYear - kMinYear + 1},
};
constexpr Spec kUnixSpecs[] = {
    {Kind::kMinute, "minute", 0, 59, 60},           {Kind::kHour, "hour", 0, 23, 24},
    {Kind::kDayOfMonth, "day-of-month", 1, 31, 31}, {Kind::kMonth, "month", 1, 12, 12},
    {Kind::kDayOfWeek, "day-of-week", 0, 7, 8},
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// A character for a message: itself when printable, else \xNN.
std::string Quote(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7F) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  return {'\\', 'x', kHex[u >> 4], kHex[u & 15]};
}

// Parses one field into `values` (bit v - base) and the day specials of `out`.
class FieldParser {
 public:
  FieldParser(const Spec& spec, Dialect dialect, std::string_view text, int field_no, int column,
              FieldSet& out)
      : spec_(spec),
        quartz_(dialect == Dialect::kQuartz),
        field_no_(field_no),
        column_(column),
        out_(out) {
    up_.reserve(text.size());
    for (char c : text) up_.push_back(Upper(c));
  }

  absl::Status Parse() {
    if (up_ == "?") {
      if (quartz_ && (spec_.kind == Kind::kDayOfMonth || spec_.kind == Kind::kDayOfWeek)) {
        question_ = true;
        return absl::OkStatus();
      }
      return Error(0, quartz_ ? "'?' is only allowed in day-of-month or day-of-week"
                              : "'?' is not Unix cron syntax");
    }
    size_t begin = 0;
    int items = 0;
    for (;;) {
      size_t end = up_.find(',', begin);
      if (end == std::string::npos) end = up_.size();
      HERA_RETURN_IF_ERROR(ParseItem(begin, end));
      ++items;
      if (end == up_.size()) break;
      begin = end + 1;
    }
    if (items > 1 && dow_special_) {
      return Error(0, "'L' and '#' cannot be combined with other day-of-week values");
    }
    return absl::OkStatus();
  }

  // The field was '?' (Quartz day fields only).
  bool question() const { return question_; }
  // The field is '*' or a step somewhere in its list (used for the hour field).
  bool interval() const { return up_.find_first_of("*/") != std::string::npos; }
  // Cronie's DOM_STAR/DOW_STAR: the field starts with '*'.
  bool starts_with_star() const { return !up_.empty() && up_[0] == '*'; }
  // Bit (v - base) for each value v; base is kMinYear for years, else 0.
  const std::array<uint64_t, 4>& values() const { return values_; }

 private:
  absl::Status Error(size_t offset, std::string_view why) const {
    return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", AsAbsl(why), " (field ",
                                                   field_no_, ", column ",
                                                   column_ + static_cast<int>(offset), ")"));
  }

  std::string Range() const { return absl::StrCat(spec_.min, "-", spec_.max); }

  void Add(int v) {
    const int i = spec_.kind == Kind::kYear ? v - kMinYear : v;
    values_[i / 64] |= uint64_t{1} << (i % 64);
  }

  // Reads an unsigned number at up_[i] (advancing i); `what` names it in errors.
  absl::StatusOr<int> ReadNumber(size_t& i, size_t end, std::string_view what) const {
    const size_t start = i;
    int64_t n = 0;
    while (i < end && IsDigit(up_[i])) {
      if (n < 1000000000) n = n * 10 + (up_[i] - '0');
      ++i;
    }
    if (i == start) {
      if (start < end) {
        return Error(start,
                     absl::StrCat("expected ", AsAbsl(what), ", found '", Quote(up_[start]), "'"));
      }
      return Error(start, absl::StrCat("expected ", AsAbsl(what), " at the end"));
    }
    return static_cast<int>(n > 1000000000 ? 1000000000 : n);
  }

  // A value: a number within min-max, or a month / weekday name (any case).
  absl::StatusOr<int> ReadValue(size_t& i, size_t end) const {
    const size_t start = i;
    if (i < end && IsLetter(up_[i])) {
      size_t run = i;
      while (run < end && IsLetter(up_[run])) ++run;
      const std::string_view word(up_.data() + i, run - i);
      const bool month = spec_.kind == Kind::kMonth;
      const bool dow = spec_.kind == Kind::kDayOfWeek;
      if ((month || dow) && word.size() >= 3) {
        // "FRIL" is FRI followed by L (Quartz "last Friday").
        const bool tail_ok =
            word.size() == 3 || (quartz_ && dow && word.size() == 4 && word[3] == 'L');
        const std::string_view name = word.substr(0, 3);
        const auto& names = month ? kMonthNames : kDayNames;
        const int count = month ? 12 : 7;
        for (int k = 0; k < count && tail_ok; ++k) {
          if (name == names[k]) {
            i += 3;
            return month ? k + 1 : (quartz_ ? k + 1 : k);
          }
        }
      }
      const std::string shown(word);
      if (month) return Error(start, absl::StrCat("'", shown, "' is not a month (JAN-DEC)"));
      if (dow) return Error(start, absl::StrCat("'", shown, "' is not a day of week (SUN-SAT)"));
      return Error(start, absl::StrCat("'", shown, "' is not a number"));
    }
    HERA_ASSIGN_OR_RETURN(const int v, ReadNumber(i, end, "a number"));
    if (v < spec_.min || v > spec_.max) {
      const std::string shown =
          v >= 1000000000 ? std::string(up_.substr(start, i - start)) : std::to_string(v);
      return Error(start, absl::StrCat(shown, " is outside ", Range()));
    }
    return v;
  }

  // Quartz day-of-month "L", "L-n", "LW", "L-nW"; up_[begin] is 'L'.
  absl::Status ParseLastDay(size_t begin, size_t end) {
    size_t i = begin + 1;
    int offset = 0;
    if (i < end && up_[i] == '-') {
      ++i;
      HERA_ASSIGN_OR_RETURN(offset, ReadNumber(i, end, "a number after 'L-'"));
      if (offset > 30) {
        return Error(begin, absl::StrCat("offset ", offset, " from the last day is more than 30"));
      }
    }
    bool weekday = false;
    if (i < end && up_[i] == 'W') {
      weekday = true;
      ++i;
    }
    if (i != end) return Error(i, absl::StrCat("unexpected '", Quote(up_[i]), "' after 'L'"));
    (weekday ? out_.last_offsets_w : out_.last_offsets) |= uint32_t{1} << offset;
    return absl::OkStatus();
  }

  absl::Status ParseItem(size_t begin, size_t end) {
    if (begin == end) return Error(begin, "empty element in a list");
    const Kind kind = spec_.kind;
    const bool dom = kind == Kind::kDayOfMonth;
    const bool dow = kind == Kind::kDayOfWeek;
    const char first = up_[begin];
    if (first == '?') return Error(begin, "'?' must be the whole field");
    size_t i = begin;
    int lo = spec_.min;
    int hi = spec_.max;
    bool star = false;
    bool range = false;
    if (first == '*' || (quartz_ && first == '/')) {  // Quartz reads "/5" as "*/5"
      star = true;
      if (first == '*') ++i;
    } else if (quartz_ && dom && first == 'L') {
      return ParseLastDay(begin, end);
    } else if (quartz_ && dom && first == 'W') {
      return Error(begin, "'W' must follow a day number, as in 15W");
    } else if (quartz_ && dow && first == 'L') {
      if (end - begin != 1) return Error(begin, "'L' must stand alone or follow a weekday (6L)");
      dow_special_ = true;
      Add(7);  // "L" alone is the last day of the week: Saturday
      return absl::OkStatus();
    } else {
      HERA_ASSIGN_OR_RETURN(lo, ReadValue(i, end));
      hi = lo;
      if (i < end && quartz_) {
        const char c = up_[i];
        if (dom && c == 'W') {
          if (i + 1 != end)
            return Error(i + 1, absl::StrCat("unexpected '", Quote(up_[i + 1]), "' after 'W'"));
          out_.nearest_w |= uint32_t{1} << lo;
          return absl::OkStatus();
        }
        if (dow && c == 'L') {
          if (i + 1 != end)
            return Error(i + 1, absl::StrCat("unexpected '", Quote(up_[i + 1]), "' after 'L'"));
          dow_special_ = true;
          out_.last_weekdays |= static_cast<uint8_t>(1u << (lo - 1));
          return absl::OkStatus();
        }
        if (dow && c == '#') {
          ++i;
          HERA_ASSIGN_OR_RETURN(const int k, ReadNumber(i, end, "an ordinal 1-5 after '#'"));
          if (k < 1 || k > 5)
            return Error(i - 1, absl::StrCat("ordinal ", k, " after '#' is outside 1-5"));
          if (i != end) return Error(i, absl::StrCat("unexpected '", Quote(up_[i]), "' after '#'"));
          dow_special_ = true;
          out_.nth_weekdays |= uint64_t{1} << (8 * (lo - 1) + k);
          return absl::OkStatus();
        }
      }
      if (i < end && up_[i] == '-') {
        ++i;
        if (i == end) return Error(i - 1, "'-' must be followed by the end of the range");
        HERA_ASSIGN_OR_RETURN(hi, ReadValue(i, end));
        range = true;
      }
    }
    int step = 1;
    if (i < end) {
      if (up_[i] != '/') return Error(i, absl::StrCat("unexpected '", Quote(up_[i]), "'"));
      if (!quartz_ && !star && !range) {
        return Error(begin, "a step needs a range or '*' before '/' (as in 0-59/15)");
      }
      ++i;
      if (i == end) return Error(i - 1, "'/' must be followed by a number");
      const size_t step_at = i;
      HERA_ASSIGN_OR_RETURN(step, ReadNumber(i, end, "a step number after '/'"));
      if (i != end)
        return Error(i, absl::StrCat("unexpected '", Quote(up_[i]), "' after the step"));
      if (step == 0) return Error(step_at, "step 0 is not allowed");
      if (step > spec_.max_step) {
        return Error(step_at, absl::StrCat("step ", step, " is more than ", spec_.max_step));
      }
      if (quartz_ && !star && !range) hi = spec_.max;  // "a/n": from a to the maximum
    }
    return AddRange(lo, hi, step, begin);
  }

  absl::Status AddRange(int lo, int hi, int step, size_t at) {
    if (lo <= hi) {
      for (int v = lo; v <= hi; v += step) Add(v);
      return absl::OkStatus();
    }
    const Kind kind = spec_.kind;
    if (!quartz_ && kind == Kind::kDayOfWeek && hi == 0) hi = 7;  // "Wed-Sun": Sunday as 7
    if (lo <= hi) {
      for (int v = lo; v <= hi; v += step) Add(v);
      return absl::OkStatus();
    }
    if (!quartz_ || kind == Kind::kYear) {
      return Error(at, absl::StrCat("range ", lo, "-", hi, " runs backwards"));
    }
    // Quartz reads a backwards range as one that wraps past the maximum ("55-5" seconds,
    // "FRI-MON"), taking values modulo the field's size; the step carries across the wrap.
    int size = 0;
    switch (kind) {
      case Kind::kSecond:
      case Kind::kMinute:
        size = 60;
        break;
      case Kind::kHour:
        size = 24;
        break;
      case Kind::kDayOfMonth:
        size = 31;
        break;
      case Kind::kMonth:
        size = 12;
        break;
      case Kind::kDayOfWeek:
        size = 7;
        break;
      case Kind::kYear:
        break;
    }
    const bool one_based = spec_.min == 1;
    for (int v = lo; v <= hi + size; v += step) {
      int r = v % size;
      if (r == 0 && one_based) r = size;
      Add(r);
    }
    return absl::OkStatus();
  }

  const Spec& spec_;
  const bool quartz_;
  const int field_no_;
  const int column_;  // 1-based column of the field's first character
  FieldSet& out_;
  std::string up_;  // the field, upper-cased (names and letters are case-insensitive)
  std::array<uint64_t, 4> values_{};
  bool question_ = false;
  bool dow_special_ = false;  // "L", "wL" or "w#k" seen in day-of-week
};

struct Token {
  std::string_view text;
  int column;  // 1-based
};

std::vector<Token> SplitFields(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i == text.size()) break;
    const size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    out.push_back({text.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return out;
}

// cronie's @-macros, as their 5-field equivalents.
absl::StatusOr<std::string_view> ExpandMacro(std::string_view word) {
  std::string up;
  for (char c : word) up.push_back(Upper(c));
  if (up == "@YEARLY" || up == "@ANNUALLY") return "0 0 1 1 *";
  if (up == "@MONTHLY") return "0 0 1 * *";
  if (up == "@WEEKLY") return "0 0 * * 0";
  if (up == "@DAILY" || up == "@MIDNIGHT") return "0 0 * * *";
  if (up == "@HOURLY") return "0 * * * *";
  if (up == "@REBOOT") return absl::InvalidArgumentError("@reboot has no fire times");
  return absl::InvalidArgumentError(
      absl::StrCat("unknown macro '", AsAbsl(word.substr(0, 40)),
                   "' (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"));
}

uint64_t Low64(const std::array<uint64_t, 4>& v) { return v[0]; }

}  // namespace

absl::StatusOr<Compiled> Compile(std::string_view text) {
  std::vector<Token> tokens = SplitFields(text);
  if (tokens.empty()) return absl::InvalidArgumentError("empty cron expression");
  if (tokens.size() == 1 && !tokens[0].text.empty() && tokens[0].text[0] == '@') {
    HERA_ASSIGN_OR_RETURN(const std::string_view expanded, ExpandMacro(tokens[0].text));
    return Compile(expanded);
  }
  const size_t n = tokens.size();
  if (n != 5 && n != 6 && n != 7) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected 5 fields (Unix cron) or 6-7 fields (Quartz: sec min hour day-of-month month "
        "day-of-week [year]), got ",
        n));
  }
  Compiled c;
  c.dialect = n == 5 ? Dialect::kUnix : Dialect::kQuartz;
  const bool quartz = c.dialect == Dialect::kQuartz;
  const Spec* specs = quartz ? kQuartzSpecs : kUnixSpecs;
  FieldSet& f = c.fields;
  bool dom_question = false, dow_question = false, dom_star = false, dow_star = false;
  int dow_column = 0;
  for (size_t k = 0; k < n; ++k) {
    const Spec& spec = specs[k];
    FieldParser p(spec, c.dialect, tokens[k].text, static_cast<int>(k) + 1, tokens[k].column, f);
    HERA_RETURN_IF_ERROR(p.Parse());
    const uint64_t v = Low64(p.values());
    switch (spec.kind) {
      case Kind::kSecond:
        f.seconds = v;
        break;
      case Kind::kMinute:
        f.minutes = v;
        break;
      case Kind::kHour:
        f.hours = static_cast<uint32_t>(v);
        c.hour_interval = p.interval();
        break;
      case Kind::kDayOfMonth:
        f.days = static_cast<uint32_t>(v);
        dom_question = p.question();
        dom_star = p.starts_with_star();
        break;
      case Kind::kMonth:
        f.months = static_cast<uint16_t>(v);
        break;
      case Kind::kDayOfWeek:
        // Quartz 1=SUN..7=SAT; Unix 0-7 with 0 and 7 Sunday. Both become 0=Sunday..6=Saturday.
        for (int d = spec.min; d <= spec.max; ++d) {
          if (v >> d & 1) f.weekdays |= static_cast<uint8_t>(1u << ((quartz ? d - 1 : d) % 7));
        }
        dow_question = p.question();
        dow_star = p.starts_with_star();
        dow_column = tokens[k].column;
        break;
      case Kind::kYear:
        f.any_year = tokens[k].text == "*";
        if (!f.any_year) f.years = p.values();
        break;
    }
  }
  if (!quartz) {
    f.seconds = 1;  // second 0
    f.day_rule = (dom_star || dow_star) ? DayRule::kBoth : DayRule::kEither;
    return c;
  }
  if (!dom_question && !dow_question) {
    return absl::InvalidArgumentError(
        absl::StrCat("day-of-week: one of day-of-month and day-of-week must be '?' (Quartz)",
                     " (field 6, column ", dow_column, ")"));
  }
  if (dom_question && dow_question) {
    // Both '?': no day restriction. Laxer than "exactly one is '?'", but the shared vectors (N054,
    // "* * * ? 11 ?") expect it to run every day.
    f.days = ~uint32_t{0} << 1;
    f.day_rule = DayRule::kDomOnly;
    return c;
  }
  f.day_rule = dom_question ? DayRule::kDowOnly : DayRule::kDomOnly;
  return c;
}

}  // namespace hera::cron::internal
