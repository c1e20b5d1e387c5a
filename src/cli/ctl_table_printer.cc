#include "cli/ctl_table_printer.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

namespace hera::cli {
namespace {

// Decodes one UTF-8 sequence at `s[*i]`, advancing `*i`. Returns -1 for an invalid byte (which
// is then consumed alone).
int32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len = 0;
  int32_t cp = 0;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return -1;
  }
  if (*i + len > s.size()) {
    ++*i;
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += len;
  return cp;
}

int CodePointWidth(int32_t cp) {
  if (cp < 0) return 1;
  // Combining marks and zero-width characters.
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
      (cp >= 0xFE00 && cp <= 0xFE0F)) {
    return 0;
  }
  // East Asian wide and fullwidth ranges (CJK, Hangul, fullwidth forms, emoji).
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
      (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD)) {
    return 2;
  }
  return 1;
}

const char* Sgr(Color c) {
  switch (c) {
    case Color::kNone:
      return "";
    case Color::kBold:
      return "\033[1m";
    case Color::kDim:
      return "\033[2m";
    case Color::kRed:
      return "\033[31m";
    case Color::kGreen:
      return "\033[32m";
    case Color::kYellow:
      return "\033[33m";
    case Color::kCyan:
      return "\033[36m";
  }
  return "";
}

void AppendPadded(std::string* out, std::string_view text, size_t width, TablePrinter::Align align,
                  Color color, bool use_color, bool last) {
  const size_t w = DisplayWidth(text);
  const size_t pad = width > w ? width - w : 0;
  if (align == TablePrinter::Align::kRight) out->append(pad, ' ');
  const bool colored = use_color && color != Color::kNone;
  if (colored) out->append(Sgr(color));
  out->append(text);
  if (colored) out->append("\033[0m");
  if (align == TablePrinter::Align::kLeft && !last) out->append(pad, ' ');
}

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) width += CodePointWidth(NextCodePoint(text, &i));
  return width;
}

std::string CellText(std::string_view text, size_t max_width) {
  const bool cut = max_width > 0 && DisplayWidth(text) > max_width;
  const size_t budget = cut ? max_width - 1 : text.size() * 2;  // one column for the ellipsis
  std::string out;
  out.reserve(text.size());
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    const int32_t cp = NextCodePoint(text, &i);
    const bool control = (cp >= 0 && cp < 0x20) || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
    const int w = control ? 1 : CodePointWidth(cp);
    if (width + w > budget) break;
    if (control) {
      out.push_back(' ');
    } else if (cp < 0) {
      out.append("\uFFFD");
    } else {
      out.append(text.substr(start, i - start));
    }
    width += w;
  }
  if (cut) out.append("\u2026");
  return out;
}

TablePrinter::TablePrinter(std::vector<std::string> headers)
    : headers_(std::move(headers)), align_(headers_.size(), Align::kLeft) {}

void TablePrinter::SetAlign(size_t column, Align align) {
  assert(column < align_.size());
  align_[column] = align;
}

void TablePrinter::AddRow(std::vector<Cell> row) {
  assert(row.size() <= headers_.size());
  for (Cell& cell : row) cell.text = CellText(cell.text);
  row.resize(headers_.size(), Cell(""));
  rows_.push_back(std::move(row));
}

std::string TablePrinter::Render(bool color) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c].text));
    }
  }
  std::string out;
  auto append_line = [&](auto cell_at) {
    const size_t start = out.size();
    for (size_t c = 0; c < headers_.size(); ++c) {
      if (c > 0) out.append("  ");
      const auto& [text, cell_color] = cell_at(c);
      AppendPadded(&out, text, widths[c], align_[c], cell_color, color, c + 1 == headers_.size());
    }
    // An empty last column leaves the padding of the one before it: trim.
    while (out.size() > start && out.back() == ' ') out.pop_back();
    out.push_back('\n');
  };
  append_line(
      [&](size_t c) { return std::pair<std::string_view, Color>(headers_[c], Color::kBold); });
  for (const auto& row : rows_) {
    append_line(
        [&](size_t c) { return std::pair<std::string_view, Color>(row[c].text, row[c].color); });
  }
  return out;
}

std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, DisplayWidth(key) + 1);
  std::string out;
  for (const auto& [key, value] : fields) {
    out.append(key);
    out.push_back(':');
    if (!value.empty()) {  // no trailing spaces after an empty value
      out.append(width - DisplayWidth(key) - 1 + 2, ' ');
      out.append(CellText(value));
    }
    out.push_back('\n');
  }
  return out;
}

bool UseColor(int fd) {
  if (!::isatty(fd)) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

}  // namespace hera::cli
