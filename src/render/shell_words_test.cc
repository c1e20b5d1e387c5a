#include "render/shell_words.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hera::render {
namespace {

using ::testing::HasSubstr;

TEST(ShellWordsTest, SplitsLikeAShell) {
  const struct {
    const char* in;
    std::vector<std::string> want;
  } cases[] = {
      {"", {}},
      {"  \t\n ", {}},
      {"--master yarn", {"--master", "yarn"}},
      {"  a   b  ", {"a", "b"}},
      // Hera's hera.spark.conf as users write it.
      {"--master yarn --conf spark.executor.memory=2g",
       {"--master", "yarn", "--conf", "spark.executor.memory=2g"}},
      {"--conf \"spark.driver.extraJavaOptions=-Da=1 -Db=2\"",
       {"--conf", "spark.driver.extraJavaOptions=-Da=1 -Db=2"}},
      {"'single $quoted \"x\"'", {"single $quoted \"x\""}},
      {"a\\ b c", {"a b", "c"}},
      {"pre\"mid dle\"'post'", {"premid dlepost"}},
      {"\"\" ''", {"", ""}},
      {"\"a\\\"b\\\\c\\d\"", {"a\"b\\c\\d"}},  // inside "...", \ escapes only " \ $ ` newline
      {"a\\\nb", {"ab"}},                      // a line continuation
      {"$HOME ${x}", {"$HOME", "${x}"}},       // nothing is expanded
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::vector<std::string>> got = SplitShellWords(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.in;
  }
}

TEST(ShellWordsTest, UnbalancedQuotesAndTrailingBackslashAreErrors) {
  const struct {
    const char* in;
    const char* error;
  } cases[] = {
      {"--conf 'a=b", "unbalanced single quote opened at column 8"},
      {"x \"abc", "unbalanced double quote opened at column 3"},
      {"\"a\\\"", "unbalanced double quote opened at column 1"},
      {"abc\\", "backslash at the end (column 4)"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::vector<std::string>> got = SplitShellWords(c.in);
    ASSERT_FALSE(got.ok()) << c.in;
    EXPECT_THAT(got.status().message(), HasSubstr(c.error)) << c.in;
  }
}

TEST(ShellWordsTest, KeepsHowEachPartWasQuoted) {
  using Q = WordPart::Quoting;
  absl::StatusOr<std::vector<ShellWord>> got = ScanShellWords("a'{b}'\"{c}\"\\{");
  ASSERT_TRUE(got.ok()) << got.status();
  const std::vector<ShellWord> want = {
      {{"a", Q::kNone}, {"{b}", Q::kLiteral}, {"{c}", Q::kDouble}, {"{", Q::kLiteral}}};
  EXPECT_EQ(*got, want);
}

}  // namespace
}  // namespace hera::render
