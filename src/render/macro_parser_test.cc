#include "render/macro_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hera::render {
namespace {

using ::testing::HasSubstr;

TEST(MacroParserTest, StartsZdtMacro) {
  EXPECT_TRUE(StartsZdtMacro("${zdt.getTime()}", 0));
  EXPECT_TRUE(StartsZdtMacro("x ${zdt}", 2));
  EXPECT_TRUE(StartsZdtMacro("${zdt", 0));
  EXPECT_FALSE(StartsZdtMacro("${zdtable}", 0));  // a shell variable
  EXPECT_FALSE(StartsZdtMacro("${zdt-default}", 0));
  EXPECT_FALSE(StartsZdtMacro("${date}", 0));
}

TEST(MacroParserTest, ParsesCallsAndArguments) {
  const std::string text = R"(a=${zdt.addDay(-1).add( 2 , 3 ).format("yyyy-MM-dd").time}; b)";
  const absl::StatusOr<ZdtMacro> m = ParseZdtMacro(text, 2);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->begin, 2u);
  EXPECT_EQ(text.substr(m->end), "; b");
  ASSERT_EQ(m->calls.size(), 4u);
  EXPECT_EQ(m->calls[0].name, "addDay");
  EXPECT_EQ(m->calls[0].args, std::vector<MacroArg>{int64_t{-1}});
  EXPECT_EQ(m->calls[1].args, (std::vector<MacroArg>{int64_t{2}, int64_t{3}}));
  EXPECT_EQ(m->calls[2].args, std::vector<MacroArg>{std::string("yyyy-MM-dd")});
  EXPECT_FALSE(m->calls[2].is_property);
  EXPECT_EQ(m->calls[3].name, "time");
  EXPECT_TRUE(m->calls[3].is_property);
}

TEST(MacroParserTest, StringsMayHoldBracesAndSingleQuotes) {
  const std::string text = R"(${zdt.format("yyyy'}'MM")}${zdt.format('HH')})";
  const absl::StatusOr<ZdtMacro> m = ParseZdtMacro(text, 0);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->calls[0].args, std::vector<MacroArg>{std::string("yyyy'}'MM")});
  const absl::StatusOr<ZdtMacro> m2 = ParseZdtMacro(text, m->end);
  ASSERT_TRUE(m2.ok()) << m2.status();
  EXPECT_EQ(m2->calls[0].args, std::vector<MacroArg>{std::string("HH")});
  EXPECT_EQ(m2->end, text.size());
}

TEST(MacroParserTest, IntArgumentsStayWithinJavaInt) {
  EXPECT_TRUE(ParseZdtMacro("${zdt.addDay(2147483647)}", 0).ok());
  EXPECT_TRUE(ParseZdtMacro("${zdt.addDay(-2147483648)}", 0).ok());
  EXPECT_FALSE(ParseZdtMacro("${zdt.addDay(2147483648)}", 0).ok());
  EXPECT_FALSE(ParseZdtMacro("${zdt.addDay(-99999999999999999999999)}", 0).ok());
}

TEST(MacroParserTest, ErrorsQuoteTheMacro) {
  struct Case {
    const char* text;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"x ${zdt.addDay(-1).format(\"yyyyMMdd\")\necho",
       "unbalanced '${' (no closing '}' on its line) in ${zdt.addDay(-1).format(\"yyyyMMdd\")"},
      {"${zdt.addDay(-1", "unbalanced '${' (no closing '}' on its line) in ${zdt.addDay(-1"},
      {"${zdt.addDay(-1 2)}", "expected ',' or ')' at column 17 of ${zdt.addDay(-1 2)}"},
      {"${zdt.format(\"yyyy)}", "unterminated string at column 14 of ${zdt.format(\"yyyy)}"},
      {"${zdt.addDay(x)}", "expected an integer or a quoted string at column 14"},
      {"${zdt.addDay(-)}", "expected a digit at column 15"},
      {"${zdt.addDay(2147483648)}", "integer outside Java's int range at column 14"},
      {"${zdt..getTime()}", "expected a method name at column 7"},
      {"${zdt.getTime() }", "unexpected ' ' at column 16"},
      {"${zdt getTime}", "unexpected ' ' at column 6"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<ZdtMacro> m = ParseZdtMacro(c.text, std::string_view(c.text).find("${"));
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(m.status().message()), HasSubstr(c.error)) << c.text;
  }
}

TEST(MacroParserTest, QuoteMacroStopsAtLineEndAndShortens) {
  EXPECT_EQ(QuoteMacro("a ${zdt.x\r\nb", 2), "${zdt.x");
  EXPECT_EQ(QuoteMacro("${zdt.x}yz", 0, 8), "${zdt.x}");
  const std::string long_macro = "${zdt.format(\"" + std::string(200, 'y') + "\")}";
  EXPECT_EQ(QuoteMacro(long_macro, 0).size(), 123u);
}

}  // namespace
}  // namespace hera::render
