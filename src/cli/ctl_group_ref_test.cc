#include "cli/ctl_group_ref.h"

#include <gtest/gtest.h>

namespace hera::cli {
namespace {

const Json kGroups = Json::parse(R"([
  {"id": 1, "name": "dw", "parent_id": null},
  {"id": 2, "name": "ods", "parent_id": 1},
  {"id": 3, "name": "dwd", "parent_id": 1},
  {"id": 4, "name": "ods", "parent_id": null},
  {"id": 5, "name": "daily", "parent_id": 2}
])");

TEST(GroupRefTest, AnIdOrAPathFromTheTopNamesAGroup) {
  EXPECT_EQ(*FindGroup(kGroups, "3"), 3);
  EXPECT_EQ(*FindGroup(kGroups, "dw/ods"), 2);
  EXPECT_EQ(*FindGroup(kGroups, "ods"), 4) << "a top-level name is a path too";
  EXPECT_EQ(*FindGroup(kGroups, "/dw/ods/daily/"), 5);
}

TEST(GroupRefTest, AMissingNameIsReportedWithTheNamesThereAre) {
  auto missing = FindGroup(kGroups, "dw/odx");
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "no group 'dw/odx': 'dw' has no group 'odx' (its groups: ods, dwd)");
  EXPECT_EQ(FindGroup(kGroups, "dw/ods/daily/x").status().message(),
            "no group 'dw/ods/daily/x': 'dw/ods/daily' has no group 'x' (it has none)");
  EXPECT_EQ(FindGroup(kGroups, " ").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GroupRefTest, APathIsTheNamesFromTheTop) {
  EXPECT_EQ(GroupPathOf(kGroups, 5), "dw/ods/daily");
  EXPECT_EQ(GroupPathOf(kGroups, 4), "ods");
  EXPECT_EQ(GroupPathOf(kGroups, 9), "");
}

}  // namespace
}  // namespace hera::cli
