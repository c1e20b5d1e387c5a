#include "render/java_date_format.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/strings.h"
#include "render/zone_names.h"

namespace hera::render {
namespace {

// DateFormatSymbols.patternChars: the letters Java 17 accepts.
constexpr std::string_view kPatternLetters = "GyMdkHmsSEDFwWahKzZYuXL";

constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};
constexpr const char* kShortMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// Indexed by Calendar.DAY_OF_WEEK - 1 (Sunday first).
constexpr const char* kWeekdays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};
constexpr const char* kShortWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Java's zeroPaddingNumber: at least `min_digits` digits; `two_digits` keeps the last two
// (yy). Values here are never negative.
void AppendNumber(std::string& out, int64_t value, int min_digits, bool two_digits = false) {
  if (two_digits) value %= 100;
  const std::string digits = absl::StrCat(value);
  if (static_cast<int>(digits.size()) < min_digits) out.append(min_digits - digits.size(), '0');
  out += digits;
}

// "+0800" / "-0530" (Z), or ISO 8601 "+08", "+0800", "+08:00" (X, count 1-3).
void AppendOffset(std::string& out, int utc_offset_s, char letter, int count) {
  if (letter == 'X' && utc_offset_s == 0) {
    out += 'Z';
    return;
  }
  const int minutes = std::abs(utc_offset_s) / 60;  // Java truncates seconds
  out += utc_offset_s < 0 ? '-' : '+';
  AppendNumber(out, minutes / 60, 2);
  if (letter == 'X' && count == 1) return;
  if (letter == 'X' && count == 3) out += ':';
  AppendNumber(out, minutes % 60, 2);
}

}  // namespace

absl::StatusOr<JavaDateFormat> JavaDateFormat::Parse(std::string_view pattern) {
  std::vector<Token> tokens;
  auto literal = [&tokens](char c) {
    if (tokens.empty() || tokens.back().letter != 0) tokens.emplace_back();
    tokens.back().literal += c;
  };
  bool in_quote = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\'') {
      // '' is a quote inside or outside quoted text; a single ' opens or closes it.
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
        literal('\'');
        ++i;
      } else {
        in_quote = !in_quote;
      }
      continue;
    }
    if (in_quote || !IsAsciiLetter(c)) {
      literal(c);  // bytes of UTF-8 text ("yyyy年MM月") are literal too
      continue;
    }
    if (kPatternLetters.find(c) == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("illegal pattern letter '", std::string(1, c),
                                                     "' at column ", i + 1, " of \"",
                                                     AsAbsl(pattern), "\""));
    }
    if (!tokens.empty() && tokens.back().letter == c) {
      ++tokens.back().count;
    } else {
      tokens.push_back(Token{c, 1, {}});
    }
  }
  if (in_quote) {
    return absl::InvalidArgumentError(
        absl::StrCat("unterminated quote in pattern \"", AsAbsl(pattern), "\""));
  }
  for (const Token& t : tokens) {
    if (t.letter == 'X' && t.count > 3) {
      return absl::InvalidArgumentError(absl::StrCat("pattern letter X repeated ", t.count,
                                                     " times (at most 3) in \"", AsAbsl(pattern),
                                                     "\""));
    }
  }
  return JavaDateFormat(std::string(pattern), std::move(tokens));
}

std::string JavaDateFormat::Format(absl::Time t, const absl::TimeZone& tz) const {
  return Format(ComputeJavaFields(absl::ToUnixMillis(t), tz));
}

std::string JavaDateFormat::Format(const absl::CivilSecond& cs, int millis,
                                   const absl::TimeZone& tz) const {
  return Format(ComputeJavaFields(JavaWallToUnixMillis(cs, millis, tz), tz));
}

std::string JavaDateFormat::Format(const JavaFields& f) const {
  std::string out;
  for (const Token& t : tokens_) {
    const int n = t.count;
    switch (t.letter) {
      case 0:
        out += t.literal;
        break;
      case 'G':
        out += "AD";  // years before 1 are out of range
        break;
      case 'y':
        AppendNumber(out, f[kYear], n == 2 ? 2 : n, n == 2);
        break;
      case 'Y':
        AppendNumber(out, f.week_year, n == 2 ? 2 : n, n == 2);
        break;
      case 'M':
      case 'L':  // Locale.US has no separate stand-alone month names
        if (n >= 4) {
          out += kMonths[f[kMonth]];
        } else if (n == 3) {
          out += kShortMonths[f[kMonth]];
        } else {
          AppendNumber(out, f[kMonth] + 1, n);
        }
        break;
      case 'E':
        out += (n >= 4 ? kWeekdays : kShortWeekdays)[f[kDayOfWeek] - 1];
        break;
      case 'u':  // ISO weekday: Monday 1 .. Sunday 7
        AppendNumber(out, f[kDayOfWeek] == 1 ? 7 : f[kDayOfWeek] - 1, n);
        break;
      case 'a':
        out += f[kAmPm] == 0 ? "AM" : "PM";
        break;
      case 'k':
        AppendNumber(out, f[kHourOfDay] == 0 ? 24 : f[kHourOfDay], n);
        break;
      case 'h':
        AppendNumber(out, f[kHour] == 0 ? 12 : f[kHour], n);
        break;
      case 'z':
        out += JavaZoneDisplayName(f.zone_name, f.zone_abbr, f.utc_offset_s, f.is_dst, n >= 4);
        break;
      case 'Z':
      case 'X':
        AppendOffset(out, f.utc_offset_s, t.letter, n);
        break;
      default: {
        int field = kDayOfMonth;
        switch (t.letter) {
          case 'd':
            field = kDayOfMonth;
            break;
          case 'D':
            field = kDayOfYear;
            break;
          case 'F':
            field = kDayOfWeekInMonth;
            break;
          case 'w':
            field = kWeekOfYear;
            break;
          case 'W':
            field = kWeekOfMonth;
            break;
          case 'H':
            field = kHourOfDay;
            break;
          case 'K':
            field = kHour;
            break;
          case 'm':
            field = kMinute;
            break;
          case 's':
            field = kSecond;
            break;
          case 'S':
            field = kMillisecond;
            break;
        }
        AppendNumber(out, f[field], n);
        break;
      }
    }
  }
  return out;
}

}  // namespace hera::render
