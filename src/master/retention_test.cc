#include "master/retention.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/sqlite/sqlite_store.h"

namespace hera::master {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1790000000);

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "hera_retention_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = store::SqliteStore::Open({.path = dir_ + "/hera.db"});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto logs = LogStore::Open(dir_ + "/logs");
    ASSERT_TRUE(logs.ok());
    logs_ = *std::move(logs);
    ResourceStoreOptions ropts;
    ropts.dir = dir_ + "/resources";
    auto resources = ResourceStore::Open(ropts, &clock_);
    ASSERT_TRUE(resources.ok());
    resources_ = *std::move(resources);
    core::WriteBatch b;
    core::Group g;
    g.id = 1;
    g.name = "etl";
    b.groups.push_back(g);
    core::Job j;
    j.id = 1;
    j.group_id = 1;
    j.name = "daily";
    b.jobs.push_back(j);
    ASSERT_TRUE(store_->Commit(b).ok());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Run `id`, ended `age` before now (unfinished: never ended), with a log and a work dir.
  void AddRun(core::RunId id, core::RunStatus status, absl::Duration age) {
    core::WriteBatch b;
    core::Run r;
    r.id = id;
    r.job_id = 1;
    r.action_id = id;
    r.status = status;
    r.queued_at = clock_.Now() - age - absl::Minutes(1);
    if (core::IsTerminal(status)) r.ended_at = clock_.Now() - age;
    b.runs.push_back(r);
    ASSERT_TRUE(store_->Commit(b).ok());
    logs_->OpenRun(id);
    ASSERT_TRUE(logs_->Append(id, 0, "some output\n").ok());
    if (core::IsTerminal(status)) logs_->CloseRun(id);
    std::filesystem::create_directories(Work(id));
    std::ofstream(Work(id) + "/script.sh") << "true\n";
  }
  std::string Work(core::RunId id) const { return dir_ + "/work/" + std::to_string(id); }

  FakeClock clock_{kT0};
  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<LogStore> logs_;
  std::unique_ptr<ResourceStore> resources_;
};

TEST_F(RetentionTest, PurgesOldFinishedRunsWithTheirLogsAndWorkDirsOnly) {
  AddRun(1, core::RunStatus::kSuccess, absl::Hours(24 * 40));
  AddRun(2, core::RunStatus::kFailed, absl::Hours(24 * 31));
  AddRun(3, core::RunStatus::kSuccess, absl::Hours(24 * 29));  // young enough
  AddRun(4, core::RunStatus::kRunning, absl::Hours(24 * 40));  // not finished: never
  RetentionOptions options;
  options.keep = absl::Hours(24 * 30);
  options.work_dir = dir_ + "/work";
  // What the two logs take on the disk (a block each, whatever their length).
  int64_t disk_bytes = 0;
  for (core::RunId run : {1, 2}) {
    struct stat st;
    ASSERT_EQ(::stat(logs_->PathOf(run).c_str(), &st), 0);
    disk_bytes += static_cast<int64_t>(st.st_blocks) * 512;
  }
  Retention retention(options, store_.get(), logs_.get(), resources_.get(), &clock_);
  auto purged = retention.PurgeOnce();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(purged->runs, 2);
  EXPECT_EQ(purged->work_dirs, 2);
  EXPECT_GT(disk_bytes, 0);
  EXPECT_EQ(purged->log_bytes, disk_bytes) << "the space freed";
  for (core::RunId gone : {1, 2}) {
    EXPECT_TRUE(absl::IsNotFound(store_->GetRun(gone).status())) << gone;
    EXPECT_FALSE(std::filesystem::exists(logs_->PathOf(gone))) << gone;
    EXPECT_FALSE(std::filesystem::exists(Work(gone))) << gone;
  }
  for (core::RunId kept : {3, 4}) {
    EXPECT_TRUE(store_->GetRun(kept).ok()) << kept;
    EXPECT_TRUE(std::filesystem::exists(logs_->PathOf(kept))) << kept;
    EXPECT_TRUE(std::filesystem::exists(Work(kept))) << kept;
  }
  // A second pass finds nothing more.
  EXPECT_EQ(retention.PurgeOnce()->runs, 0);
}

TEST_F(RetentionTest, OldResourceVersionsGoButNeverTheLatest) {
  ASSERT_TRUE(resources_->Put("udf.jar", "v1", "alice").ok());
  ASSERT_TRUE(resources_->Put("udf.jar", "v2", "alice").ok());
  ASSERT_TRUE(resources_->Put("old.sh", "only", "alice").ok());
  clock_.Advance(absl::Hours(24 * 40));
  ASSERT_TRUE(resources_->Put("udf.jar", "v3", "alice").ok());
  Retention retention({}, store_.get(), logs_.get(), resources_.get(), &clock_);
  auto purged = retention.PurgeOnce();
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(purged->resource_versions, 2);
  auto versions = resources_->Versions("udf.jar");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ(versions->front().version, 3);
  EXPECT_EQ(resources_->Versions("old.sh")->size(), 1u) << "the latest stays, however old";
  EXPECT_TRUE(absl::IsNotFound(resources_->Open("udf.jar", 1).status()));
}

}  // namespace
}  // namespace hera::master
