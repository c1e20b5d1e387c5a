#include "render/config_expander.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace hera::render {
namespace {

using ::testing::HasSubstr;

TEST(ConfigExpanderTest, ReplacesKnownKeysRecursively) {
  const std::map<std::string, std::string> configs = {
      {"db", "dw_${env}"},
      {"env", "prod"},
      {"table", "${db}.orders"},
      {"day", "${zdt.addDay(-1).format(\"yyyyMMdd\")}"},
      {"empty", ""},
  };
  struct Case {
    const char* in;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"select * from ${table}", "select * from dw_prod.orders"},
      {"${env}${env}-${empty}-", "prodprod--"},
      // A value may hold a date macro; it is left for the macro step.
      {"dt=${day}", "dt=${zdt.addDay(-1).format(\"yyyyMMdd\")}"},
      // Unknown keys, shell syntax and macros stay as written.
      {"${HOME} ${PATH:-/bin} ${yesterday} $env ${", "${HOME} ${PATH:-/bin} ${yesterday} $env ${"},
      {"${zdt.getTime()}", "${zdt.getTime()}"},
      // Hera's key pattern has no '{', '}' or '$': only the inner reference is one.
      {"${a${env}}", "${aprod}"},
      {"", ""},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<std::string> got = ExpandConfigs(c.in, configs);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.in;
  }
}

TEST(ConfigExpanderTest, CycleNamesItsKeys) {
  const std::map<std::string, std::string> configs = {
      {"a", "x${b}"}, {"b", "${c}"}, {"c", "${a}"}, {"self", "${self}"}, {"ok", "fine"}};
  EXPECT_EQ(*ExpandConfigs("${ok}", configs), "fine");  // a cycle elsewhere is harmless
  absl::StatusOr<std::string> got = ExpandConfigs("run ${a}", configs);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "config reference cycle: a -> b -> c -> a");
  got = ExpandConfigs("${self}", configs);
  EXPECT_EQ(got.status().message(), "config reference cycle: self -> self");
}

TEST(ConfigExpanderTest, RunawayExpansionIsAnError) {
  std::map<std::string, std::string> configs = {{"k0", "0123456789abcdef"}};
  for (int i = 1; i <= 24; ++i) {
    configs["k" + std::to_string(i)] =
        "${k" + std::to_string(i - 1) + "}${k" + std::to_string(i - 1) + "}";
  }
  const absl::StatusOr<std::string> got = ExpandConfigs("${k24}", configs);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("longer than 16 MiB"));
}

}  // namespace
}  // namespace hera::render
