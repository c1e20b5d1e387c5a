#include "cli/ctl_table_printer.h"

#include <gtest/gtest.h>

namespace hera::cli {
namespace {

TEST(TablePrinterTest, AlignsColumnsUnderHeader) {
  TablePrinter t({"ID", "NAME", "STATUS"});
  t.SetAlign(0, TablePrinter::Align::kRight);
  t.AddRow({"1", "nightly_etl", "success"});
  t.AddRow({"120", "a", "failed"});
  EXPECT_EQ(t.Render(false),
            " ID  NAME         STATUS\n"
            "  1  nightly_etl  success\n"
            "120  a            failed\n");
}

TEST(TablePrinterTest, NoTrailingSpacesAndShortRowsPadded) {
  TablePrinter t({"A", "B", "LONG_HEADER"});
  t.AddRow({"x"});
  t.AddRow({"y", "", ""});
  EXPECT_EQ(t.Render(false),
            "A  B  LONG_HEADER\n"
            "x\n"
            "y\n");
}

TEST(TablePrinterTest, EmptyTableHasHeaderOnly) {
  TablePrinter t({"ID", "NAME"});
  EXPECT_EQ(t.Render(false), "ID  NAME\n");
  EXPECT_EQ(t.rows(), 0u);
}

TEST(TablePrinterTest, WideCharactersCountTwoColumns) {
  TablePrinter t({"NAME", "X"});
  t.AddRow({"日志", "1"});
  t.AddRow({"abcde", "2"});
  EXPECT_EQ(t.Render(false),
            "NAME   X\n"
            "日志   1\n"
            "abcde  2\n");
}

TEST(TablePrinterTest, ColorsOnlyWhenAsked) {
  TablePrinter t({"S"});
  t.AddRow({Cell("ok", Color::kGreen)});
  EXPECT_EQ(t.Render(false), "S\nok\n");
  EXPECT_EQ(t.Render(true), "\033[1mS\033[0m\n\033[32mok\033[0m\n");
}

TEST(TablePrinterTest, ControlCharactersCannotBreakRowsOrInjectEscapes) {
  TablePrinter t({"D"});
  t.AddRow({"two\nlines\t\033[31mred"});
  EXPECT_EQ(t.Render(false), "D\ntwo lines  [31mred\n");
}

TEST(DisplayWidthTest, Utf8) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("é"), 1u);
  EXPECT_EQ(DisplayWidth("e\u0301"), 1u);  // combining accent
  EXPECT_EQ(DisplayWidth("调度"), 4u);
  EXPECT_EQ(DisplayWidth("\xff\xfe"), 2u);  // invalid bytes: one column each
}

TEST(CellTextTest, TruncatesWithEllipsis) {
  EXPECT_EQ(CellText("abcdef", 4), "abc\u2026");
  EXPECT_EQ(CellText("abcd", 4), "abcd");
  EXPECT_EQ(CellText("调度器日志", 5), "调度\u2026");
  EXPECT_EQ(CellText("bad\xff", 0), "bad\uFFFD");
}

TEST(RenderFieldsTest, AlignsValues) {
  EXPECT_EQ(RenderFields({{"id", "3"}, {"exit code", "7"}, {"message", "a\nb"}, {"note", ""}}),
            "id:         3\n"
            "exit code:  7\n"
            "message:    a b\n"
            "note:\n");
}

}  // namespace
}  // namespace hera::cli
