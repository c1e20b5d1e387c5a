#include "api/multipart.h"

#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera::api {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// Part headers are a few short lines; more is not a form a client sends.
constexpr size_t kMaxHeaderBytes = 16 * 1024;

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(AsAbsl(s)); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 8187 ext-value "UTF-8''a%20b" → "a b"; nullopt when it is not that shape.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  const size_t quote = v.find("''");
  if (quote == std::string_view::npos || Lower(v.substr(0, quote)) != "utf-8") return std::nullopt;
  std::string out;
  for (size_t i = quote + 2; i < v.size(); ++i) {
    if (v[i] != '%') {
      out.push_back(v[i]);
      continue;
    }
    if (i + 2 >= v.size() || HexValue(v[i + 1]) < 0 || HexValue(v[i + 2]) < 0) return std::nullopt;
    out.push_back(static_cast<char>(HexValue(v[i + 1]) * 16 + HexValue(v[i + 2])));
    i += 2;
  }
  return out;
}

// `value; a=b; c="d \" e"` → the value before the first ';' (lower-cased) and the parameters
// (names lower-cased, quoted strings unescaped). InvalidArgument for an unterminated quote.
absl::StatusOr<std::pair<std::string, std::map<std::string, std::string>>> SplitParams(
    std::string_view header) {
  size_t i = header.find(';');
  std::string value = Lower(TrimBlanks(header.substr(0, i)));
  std::map<std::string, std::string> params;
  while (i != std::string_view::npos && i < header.size()) {
    ++i;  // past ';'
    const size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) break;  // a bare flag: nothing we use
    const std::string key = Lower(TrimBlanks(header.substr(i, eq - i)));
    size_t j = eq + 1;
    while (j < header.size() && (header[j] == ' ' || header[j] == '\t')) ++j;
    std::string param;
    if (j < header.size() && header[j] == '"') {
      bool closed = false;
      for (++j; j < header.size(); ++j) {
        if (header[j] == '\\' && j + 1 < header.size()) {
          param.push_back(header[++j]);
        } else if (header[j] == '"') {
          closed = true;
          ++j;
          break;
        } else {
          param.push_back(header[j]);
        }
      }
      if (!closed) {
        return absl::InvalidArgumentError(
            absl::StrCat("parameter '", key, "' has an unterminated quoted string"));
      }
      i = header.find(';', j);
    } else {
      i = header.find(';', j);
      param = std::string(TrimBlanks(header.substr(j, i == std::string_view::npos ? i : i - j)));
    }
    params[key] = std::move(param);
  }
  return std::make_pair(std::move(value), std::move(params));
}

// Fills `part` from the header block (lines separated by CRLF, without the blank line).
absl::Status ParsePartHeaders(std::string_view block, MultipartPart* part) {
  std::map<std::string, std::string> headers;
  std::string* last = nullptr;
  while (!block.empty()) {
    const size_t eol = block.find(kCrlf);
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t') && last != nullptr) {
      absl::StrAppend(last, " ", AsAbsl(TrimBlanks(line)));  // an obsolete folded line
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("header line \"", AsAbsl(line.substr(0, 80)), "\" has no name"));
    }
    last = &(headers[Lower(TrimBlanks(line.substr(0, colon)))] =
                 std::string(TrimBlanks(line.substr(colon + 1))));
  }
  auto disposition = headers.find("content-disposition");
  if (disposition == headers.end()) {
    return absl::InvalidArgumentError("a part has no Content-Disposition header");
  }
  auto split = SplitParams(disposition->second);
  if (!split.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Disposition: ", split.status().message()));
  }
  auto& [type, params] = *split;
  if (type != "form-data") {
    return absl::InvalidArgumentError(
        absl::StrCat("Content-Disposition is \"", type, "\", not form-data"));
  }
  auto name = params.find("name");
  if (name == params.end() || name->second.empty()) {
    return absl::InvalidArgumentError("a part's Content-Disposition has no name");
  }
  part->name = name->second;
  if (auto ext = params.find("filename*"); ext != params.end()) {
    if (std::optional<std::string> decoded = DecodeExtValue(ext->second)) part->filename = *decoded;
  }
  if (part->filename.empty()) {
    if (auto f = params.find("filename"); f != params.end()) part->filename = f->second;
  }
  if (auto ct = headers.find("content-type"); ct != headers.end()) part->content_type = ct->second;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  auto split = SplitParams(content_type);
  if (!split.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Content-Type: ", split.status().message()));
  }
  auto& [type, params] = *split;
  if (type != "multipart/form-data") {
    return absl::InvalidArgumentError(
        absl::StrCat("send the file as multipart/form-data (field 'file'), not \"",
                     type.empty() ? "no Content-Type" : type, "\""));
  }
  auto boundary = params.find("boundary");
  if (boundary == params.end() || boundary->second.empty() || boundary->second.size() > 70) {
    return absl::InvalidArgumentError(
        "Content-Type multipart/form-data needs a boundary of 1 to 70 characters");
  }
  return boundary->second;
}

absl::StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                          std::string_view boundary,
                                                          size_t max_parts) {
  if (boundary.empty()) return absl::InvalidArgumentError("multipart boundary is empty");
  const std::string dash = absl::StrCat("--", AsAbsl(boundary));
  const std::string delimiter = absl::StrCat(AsAbsl(kCrlf), dash);
  // The first delimiter may open the body; later ones follow the CRLF that ends a part.
  size_t pos = 0;
  if (!absl::StartsWith(AsAbsl(body), dash)) {
    pos = body.find(delimiter);
    if (pos == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("the body holds no multipart delimiter \"", dash, "\""));
    }
    pos += kCrlf.size();
  }
  std::vector<MultipartPart> parts;
  for (;;) {
    pos += dash.size();
    if (body.substr(pos, 2) == "--") return parts;  // the close delimiter; the epilogue is ignored
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != kCrlf) {
      return absl::InvalidArgumentError(
          absl::StrCat(pos >= body.size() ? "the body ends after a delimiter without the closing \""
                                          : "a delimiter is not followed by a line break or \"",
                       dash, "--\""));
    }
    pos += kCrlf.size();
    if (parts.size() == max_parts) {
      return absl::InvalidArgumentError(absl::StrCat("more than ", max_parts, " parts"));
    }
    // Headers end with an empty line; a part may have none (then the empty line comes first).
    size_t content = pos;
    std::string_view headers;
    if (body.substr(pos, 2) == kCrlf) {
      content = pos + 2;
    } else {
      const size_t end = body.find("\r\n\r\n", pos);
      if (end == std::string_view::npos || end - pos > kMaxHeaderBytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("part ", parts.size() + 1, ": its headers do not end with an empty line",
                         end == std::string_view::npos ? "" : " within 16 KiB"));
      }
      headers = body.substr(pos, end - pos);
      content = end + 4;
    }
    const size_t next = body.find(delimiter, content);
    if (next == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "part ", parts.size() + 1, ": the body ends before its delimiter (truncated upload?)"));
    }
    MultipartPart part;
    if (absl::Status st = ParsePartHeaders(headers, &part); !st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("part ", parts.size() + 1, ": ", st.message()));
    }
    part.data = body.substr(content, next - content);
    parts.push_back(std::move(part));
    pos = next + kCrlf.size();
  }
}

}  // namespace hera::api
