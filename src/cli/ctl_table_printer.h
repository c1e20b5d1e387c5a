#pragma once
// Aligned text tables and "key: value" blocks for the human output of `hera ctl`.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hera::cli {

// Terminal colours; only emitted when the printer is told colours are on.
enum class Color { kNone, kBold, kDim, kRed, kGreen, kYellow, kCyan };

// Columns on the terminal that `text` takes: UTF-8 aware, East Asian wide characters count 2,
// combining marks 0. Invalid bytes count 1 each.
size_t DisplayWidth(std::string_view text);

// Replaces control characters (newlines, tabs, escapes) by spaces so a cell stays on one line and
// cannot inject terminal escapes; cuts to `max_width` columns with a trailing "…" (0: no limit).
std::string CellText(std::string_view text, size_t max_width = 0);

struct Cell {
  Cell(std::string t, Color c = Color::kNone) : text(std::move(t)), color(c) {}  // NOLINT
  Cell(const char* t) : text(t) {}                                               // NOLINT
  std::string text;
  Color color = Color::kNone;
};

// Builds a table row by row and renders it with a header row and columns padded to the widest
// cell (two spaces apart, no trailing spaces). Not thread-safe.
class TablePrinter {
 public:
  enum class Align { kLeft, kRight };

  explicit TablePrinter(std::vector<std::string> headers);

  // Numbers read better right-aligned. Columns are left-aligned by default.
  void SetAlign(size_t column, Align align);
  // Rows shorter than the header are padded with empty cells; longer ones are a bug.
  void AddRow(std::vector<Cell> row);
  size_t rows() const { return rows_.size(); }

  // The table, each line ending in '\n'. With `color`, the header is bold and cells keep their
  // colour; without it the output is plain text.
  std::string Render(bool color) const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::vector<std::vector<Cell>> rows_;
};

// "key:  value" lines with the values aligned, for `show`/`status` commands.
std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields);

// Whether to colour output written to `fd`: a tty, NO_COLOR unset and TERM not "dumb".
bool UseColor(int fd);

}  // namespace hera::cli
