#include "core/catalog.h"

#include <gtest/gtest.h>

namespace hera::core {
namespace {

using nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

class CatalogTest : public ::testing::Test {
 protected:
  Group AddGroup(GroupId id, const json& body) {
    auto g = catalog_.PrepareNewGroup(id, body, "alice", kNow);
    EXPECT_TRUE(g.ok()) << g.status();
    catalog_.PutGroup(*g);
    return *g;
  }
  Job AddJob(JobId id, const json& body) {
    auto j = catalog_.PrepareNewJob(id, body, "alice", kNow);
    EXPECT_TRUE(j.ok()) << j.status();
    catalog_.PutJob(*j);
    return *j;
  }
  Catalog catalog_;
};

TEST_F(CatalogTest, GroupNamesAreUniqueAmongSiblingsOnly) {
  AddGroup(1, {{"name", "etl"}});
  AddGroup(2, {{"name", "sub"}, {"parent_id", 1}});
  EXPECT_EQ(catalog_.PrepareNewGroup(3, {{"name", "etl"}}, "a", kNow).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(catalog_.PrepareNewGroup(3, {{"name", "etl"}, {"parent_id", 2}}, "a", kNow).ok());
  EXPECT_EQ(catalog_.PrepareNewGroup(3, {{"name", "x"}, {"parent_id", 9}}, "a", kNow)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, ACronThatNeverFiresIsRefusedWhenSavedNotLater) {
  AddGroup(1, {{"name", "etl"}});
  auto never = catalog_.PrepareNewJob(
      1, {{"name", "feb30"}, {"group_id", 1}, {"schedule", {{"cron", "0 0 0 30 2 ?"}}}}, "a", kNow);
  ASSERT_EQ(never.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(never.status().message().find("never fires"), std::string::npos);
  // A cron whose last year passes after the save: the job can still be disabled and edited,
  // but not given a cron that never fires again.
  AddJob(1, {{"name", "once"}, {"group_id", 1}, {"schedule", {{"cron", "0 0 0 1 1 ? 2027"}}}});
  const absl::Time later = kNow + absl::Hours(24 * 365 * 2);
  EXPECT_TRUE(catalog_.PrepareJobUpdate(1, {{"enabled", false}}, later).ok());
  EXPECT_TRUE(catalog_.PrepareJobUpdate(1, {{"description", "done"}}, later).ok());
  EXPECT_EQ(catalog_.PrepareJobUpdate(1, {{"schedule", {{"cron", "0 0 0 1 1 ? 2028"}}}}, later)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, GroupCannotMoveUnderItsDescendant) {
  AddGroup(1, {{"name", "a"}});
  AddGroup(2, {{"name", "b"}, {"parent_id", 1}});
  EXPECT_EQ(catalog_.PrepareGroupUpdate(1, {{"parent_id", 2}}, kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, NonEmptyGroupIsNotDeletable) {
  AddGroup(1, {{"name", "a"}});
  AddJob(1, {{"name", "j"}, {"group_id", 1}, {"script", "true"}});
  const absl::Status st = catalog_.CheckGroupDeletable(1);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("holds job 1"), absl::string_view::npos);
  catalog_.RemoveJob(1);
  EXPECT_TRUE(catalog_.CheckGroupDeletable(1).ok());
}

TEST_F(CatalogTest, JobNeedsAnExistingGroupAndAUniqueName) {
  AddGroup(1, {{"name", "a"}});
  EXPECT_EQ(catalog_.PrepareNewJob(1, {{"name", "j"}}, "a", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_.PrepareNewJob(1, {{"name", "j"}, {"group_id", 5}}, "a", kNow).status().code(),
            absl::StatusCode::kNotFound);
  AddJob(1, {{"name", "j"}, {"group_id", 1}});
  EXPECT_EQ(catalog_.PrepareNewJob(2, {{"name", "j"}, {"group_id", 1}}, "a", kNow).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Renaming a job to its own name is not a clash.
  EXPECT_TRUE(catalog_.PrepareJobUpdate(1, {{"name", "j"}}, kNow).ok());
}

TEST_F(CatalogTest, EnabledOrDependedOnJobIsNotDeletable) {
  AddGroup(1, {{"name", "a"}});
  AddJob(1, {{"name", "up"}, {"group_id", 1}});
  AddJob(2, {{"name", "down"}, {"group_id", 1}, {"schedule", {{"depends_on", {{{"job_id", 1}}}}}}});
  EXPECT_EQ(catalog_.CheckJobDeletable(1).code(), absl::StatusCode::kFailedPrecondition);
  AddJob(3, {{"name", "on"}, {"group_id", 1}, {"enabled", true}});
  EXPECT_EQ(catalog_.CheckJobDeletable(3).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(catalog_.CheckJobDeletable(2).ok());
}

TEST_F(CatalogTest, AroundWalksEachSideByDepthThenIdWithinTheLimit) {
  // 1 -> 2 -> 4 and 1 -> 3 -> 4 (a diamond), then 4 -> 5; 6 depends on 2 only.
  auto deps = [](std::vector<JobId> ups) {
    json list = json::array();
    for (JobId u : ups) list.push_back({{"job_id", u}});
    return json{{"depends_on", list}};
  };
  AddGroup(1, {{"name", "etl"}});
  AddJob(1, {{"name", "a"}, {"group_id", 1}});
  AddJob(2, {{"name", "b"}, {"group_id", 1}, {"schedule", deps({1})}});
  AddJob(3, {{"name", "c"}, {"group_id", 1}, {"schedule", deps({1})}});
  AddJob(4, {{"name", "d"}, {"group_id", 1}, {"schedule", deps({3, 2})}});
  AddJob(5, {{"name", "e"}, {"group_id", 1}, {"schedule", deps({4})}});
  AddJob(6, {{"name", "f"}, {"group_id", 1}, {"schedule", deps({2})}});
  using Reached = std::vector<std::pair<JobId, int>>;
  EXPECT_EQ(catalog_.Around(1, /*up=*/false, 10), (Reached{{2, 1}, {3, 1}, {4, 2}, {6, 2}, {5, 3}}));
  EXPECT_EQ(catalog_.Around(1, /*up=*/false, 2), (Reached{{2, 1}, {3, 1}, {4, 2}, {6, 2}}));
  EXPECT_EQ(catalog_.Around(5, /*up=*/true, 10), (Reached{{4, 1}, {2, 2}, {3, 2}, {1, 3}}));
  EXPECT_EQ(catalog_.Around(1, /*up=*/true, 10), Reached{});
  EXPECT_EQ(catalog_.Around(99, /*up=*/false, 10), Reached{});
}

TEST_F(CatalogTest, RevisionListsChangedFields) {
  AddGroup(1, {{"name", "a"}});
  Job v1 = AddJob(1, {{"name", "j"}, {"group_id", 1}, {"script", "echo 1"}});
  auto v2 = catalog_.PrepareJobUpdate(1, {{"script", "echo 2"}, {"timeout_s", 5}}, kNow);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  const JobRevision rev = MakeRevision(*v2, &v1, "bob", kNow);
  EXPECT_EQ(rev.changed_fields, (std::vector<std::string>{"script", "timeout_s"}));
  EXPECT_TRUE(MakeRevision(v1, nullptr, "bob", kNow).changed_fields.empty());
}

}  // namespace
}  // namespace hera::core
