#include "render/downloads.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status.h"
#include "common/strings.h"

namespace hera::render {
namespace {

constexpr std::string_view kOpen = "download[";

bool HasControlChar(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// The URI's last path segment, without query or fragment: "hdfs:///a/b.jar?x" -> "b.jar".
std::string DefaultName(std::string_view uri) {
  std::string_view rest = uri.substr(uri.find("://") + 3);
  rest = rest.substr(0, rest.find_first_of("?#"));
  const size_t slash = rest.rfind('/');
  return std::string(slash == std::string_view::npos ? rest : rest.substr(slash + 1));
}

// The download a directive names; `inner` is the text between the brackets.
absl::StatusOr<Download> ParseDirective(std::string_view inner) {
  const std::vector<absl::string_view> words =
      absl::StrSplit(AsAbsl(inner), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty()) return absl::InvalidArgumentError("download[] names no URI");
  if (words.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "download[", AsAbsl(inner), "] has ", words.size(), " words; expected download[uri name]"));
  }
  Download d;
  d.uri = std::string(words[0]);
  const size_t scheme_end = d.uri.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "download URI \"", d.uri, "\" has no scheme (hdfs://, hera://, https://, ...)"));
  }
  d.name = words.size() == 2 ? std::string(words[1]) : DefaultName(d.uri);
  if (d.name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "download URI \"", d.uri, "\" ends without a file name; add one: download[uri name]"));
  }
  if (absl::Status s = ValidateDownloadName(d.name); !s.ok()) return s;
  return d;
}

}  // namespace

absl::Status ValidateDownloadName(std::string_view name) {
  if (name.empty() || name == "." || name.find('/') != std::string_view::npos ||
      name.find("..") != std::string_view::npos || HasControlChar(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("download name \"", absl::CHexEscape(AsAbsl(name)),
                     "\" must be a plain file name: no '/', '..' or control characters"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScriptDownloads> ExtractDownloads(std::string_view script) {
  ScriptDownloads out;
  out.script.reserve(script.size());
  std::map<std::string, int> line_of_name;
  int line_no = 0;
  for (size_t pos = 0; pos < script.size();) {
    ++line_no;
    size_t eol = script.find('\n', pos);
    eol = eol == std::string_view::npos ? script.size() : eol + 1;
    const std::string_view line = script.substr(pos, eol - pos);
    pos = eol;

    const absl::string_view trimmed = absl::StripAsciiWhitespace(AsAbsl(line));
    if (absl::StartsWith(trimmed, AsAbsl(kOpen)) && !absl::StrContains(trimmed, "]")) {
      // Never a command (the shell would fail on it): a directive missing its bracket.
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", trimmed,
                                                     " has no closing ']' (expected "
                                                     "download[uri name])"));
    }
    if (!absl::StartsWith(trimmed, AsAbsl(kOpen)) || !absl::EndsWith(trimmed, "]")) {
      out.script += line;
      continue;
    }
    const absl::string_view inner = trimmed.substr(kOpen.size(), trimmed.size() - kOpen.size() - 1);
    const std::string where = absl::StrCat("line ", line_no);
    if (absl::StrContains(inner, "[") || absl::StrContains(inner, "]")) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": brackets inside ", trimmed, " (expected download[uri name])"));
    }
    absl::StatusOr<Download> d = ParseDirective(AsStd(inner));
    if (!d.ok()) return WithContext(d.status(), where);
    if (const auto [it, fresh] = line_of_name.emplace(d->name, line_no); !fresh) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": download name \"", d->name,
                                                     "\" is already used on line ", it->second));
    }
    out.downloads.push_back(*std::move(d));
    // Keep the line break (and a CR before it) so later lines keep their numbers.
    if (absl::EndsWith(AsAbsl(line), "\r\n")) {
      out.script += "\r\n";
    } else if (absl::EndsWith(AsAbsl(line), "\n")) {
      out.script += "\n";
    }
  }
  return out;
}

}  // namespace hera::render
