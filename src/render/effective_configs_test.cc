#include "render/effective_configs.h"

#include <gtest/gtest.h>

namespace hera::render {
namespace {

TEST(EffectiveConfigsTest, NearestLevelWins) {
  const ConfigMap job = {{"queue", "etl"}, {"day", "${yesterday}"}};
  const ConfigMap team = {{"queue", "team"}, {"db", "dw_team"}};
  const ConfigMap root = {{"queue", "default"}, {"db", "dw"}, {"owner", "ops"}};
  const EffectiveConfigs got = MergeConfigs(job, {{7, team}, {1, root}});
  const EffectiveConfigs want = {
      {"day", {"${yesterday}", "job"}},
      {"db", {"dw_team", "group:7"}},
      {"owner", {"ops", "group:1"}},
      {"queue", {"etl", "job"}},
  };
  EXPECT_EQ(got, want);
  const ConfigMap values = {
      {"day", "${yesterday}"}, {"db", "dw_team"}, {"owner", "ops"}, {"queue", "etl"}};
  EXPECT_EQ(ConfigValues(got), values);
}

TEST(EffectiveConfigsTest, NoGroups) {
  EXPECT_EQ(MergeConfigs({}, {}), EffectiveConfigs{});
  EXPECT_EQ(MergeConfigs({{"a", "1"}}, {}), (EffectiveConfigs{{"a", {"1", "job"}}}));
}

}  // namespace
}  // namespace hera::render
