// SqliteStore: the contract suite on a temporary file, plus what only SQLite has (migrations,
// pragmas, error texts).

// The tests build WriteBatch, filters and records with C++20 designated initializers, naming
// only the fields that matter; GCC 12 still warns that the rest are "missing".
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "store/sqlite/sqlite_store.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/migrations/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_migrate.h"
#include "store/store_contract.h"

namespace hera::store {
namespace {

using ::testing::HasSubstr;

// A directory of its own under the test temp dir, removed with everything in it (the database,
// its -wal and -shm files).
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::path(::testing::TempDir()) / "hera_store_XXXXXX").string();
    char* dir = mkdtemp(pattern.data());
    EXPECT_NE(dir, nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class SqliteTestDatabase final : public TestDatabase {
 public:
  absl::StatusOr<std::unique_ptr<core::Store>> Open() override {
    auto store = SqliteStore::Open({.path = dir_.File("hera.db")});
    if (!store.ok()) return store.status();
    return std::unique_ptr<core::Store>(*std::move(store));
  }

 private:
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreBackend{
                             "sqlite", [] { return std::make_unique<SqliteTestDatabase>(); }}),
                         StoreBackendName);

// A side connection to inspect or damage the file behind a store.
std::unique_ptr<sqlite::Db> Side(const std::string& path) {
  auto db = sqlite::Db::Open(path);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

int64_t QueryInt(sqlite::Db* db, std::string_view sql) {
  auto text = db->QueryText(sql);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? std::stoll(*text) : -1;
}

core::WriteBatch OneJob() {
  core::WriteBatch b;
  core::Group g;
  g.id = 1;
  g.name = "g";
  b.groups.push_back(g);
  core::Job job;
  job.id = 1;
  job.group_id = 1;
  job.name = "job";
  b.jobs.push_back(job);
  core::Run run;
  run.id = 1;
  run.job_id = 1;
  b.runs.push_back(run);
  return b;
}

TEST(MigrationsTest, NumberedFromOneWithoutGaps) {
  const std::vector<Migration>& all = AllMigrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].name, "0001_initial.sql");
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i + 1));
    EXPECT_THAT(std::string(all[i].sql), HasSubstr("CREATE"));
  }
}

TEST(SqliteStoreTest, OpenSetsWalAndRecordsTheSchemaOnce) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  for (int i = 0; i < 3; ++i) {
    auto store = SqliteStore::Open({.path = path, .read_connections = 2});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Commit(OneJob()).ok());
  }
  auto db = Side(path);
  EXPECT_EQ(*db->QueryText("PRAGMA journal_mode"), "wal");
  const auto latest = static_cast<int64_t>(AllMigrations().size());
  EXPECT_EQ(QueryInt(db.get(), "SELECT COUNT(*) FROM schema_version"), latest);
  EXPECT_EQ(*sqlite::SchemaVersion(db.get()), latest);
}

TEST(SqliteStoreTest, BadOptions) {
  EXPECT_EQ(SqliteStore::Open({}).status().code(), absl::StatusCode::kInvalidArgument);
  TempDir dir;
  EXPECT_EQ(SqliteStore::Open({.path = dir.File("x.db"), .read_connections = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto missing_dir = SqliteStore::Open({.path = dir.File("no/such/dir/x.db")});
  EXPECT_FALSE(missing_dir.ok());
  EXPECT_THAT(std::string(missing_dir.status().message()), HasSubstr("no/such/dir/x.db"));
}

TEST(SqliteStoreTest, RefusesASchemaNewerThanTheBinary) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  ASSERT_TRUE(SqliteStore::Open({.path = path}).ok());
  auto db = Side(path);
  ASSERT_TRUE(db->Exec("INSERT INTO schema_version (version, name, applied_at)"
                       " VALUES (999, '0999_future.sql', 0)")
                  .ok());
  db.reset();
  auto store = SqliteStore::Open({.path = path});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("999"));
}

TEST(SqliteMigrateTest, AFailedMigrationLeavesThePreviousVersion) {
  TempDir dir;
  auto db = Side(dir.File("m.db"));
  const std::vector<Migration> migrations = {
      {1, "0001_a.sql", "CREATE TABLE a (x BIGINT);"},
      {2, "0002_b.sql", "CREATE TABLE b (x BIGINT); INSERT INTO nowhere VALUES (1);"},
  };
  absl::Status st = sqlite::ApplyMigrations(db.get(), migrations);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("0002_b.sql"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("nowhere"));
  EXPECT_EQ(*sqlite::SchemaVersion(db.get()), 1);
  EXPECT_EQ(QueryInt(db.get(), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'"), 0);

  // Fixed, it applies on the next run, and a third run changes nothing.
  const std::vector<Migration> fixed = {migrations[0],
                                        {2, "0002_b.sql", "CREATE TABLE b (x BIGINT);"}};
  ASSERT_TRUE(sqlite::ApplyMigrations(db.get(), fixed).ok());
  ASSERT_TRUE(sqlite::ApplyMigrations(db.get(), fixed).ok());
  EXPECT_EQ(*sqlite::SchemaVersion(db.get()), 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT COUNT(*) FROM schema_version"), 2);
}

TEST(SqliteMigrateTest, DoubledActionsAreMergedWithoutLosingARun) {
  TempDir dir;
  auto db = Side(dir.File("m.db"));
  const std::vector<Migration>& all = AllMigrations();
  ASSERT_GE(all.size(), 7u);
  ASSERT_TRUE(sqlite::ApplyMigrations(db.get(), {all.begin(), all.begin() + 6}).ok());
  // Action 1 is the scheduled one at time 1000; two rerun batches each made another (2, 3);
  // action 5 (downstream) links to 2; a rerun batch's item names 3.
  ASSERT_TRUE(db->Exec(R"sql(
    INSERT INTO groups VALUES (1, NULL, 'g', '', '{}', 'a', 1, 0, 0);
    INSERT INTO jobs VALUES (1, 1, 'j', 1, 'a', 1, 0, 0, '{}');
    INSERT INTO actions (id, job_id, scheduled_time, status, job_version, upstream, reason,
                         created_at, updated_at, manual) VALUES
      (1, 1, 1000, 'failed', 1, '[]', '', 0, 0, 0),
      (2, 1, 1000, 'success', 1, '[]', 'rerun batch 1', 0, 0, 1),
      (3, 1, 1000, 'failed', 1, '[]', 'rerun batch 2', 0, 0, 1),
      (4, 1, 2000, 'success', 1, '[]', '', 0, 0, 0),
      (5, 1, 3000, 'waiting', 1, '[2,4]', '', 0, 0, 0);
    INSERT INTO runs (id, job_id, action_id, trigger, status, attempt, job_version, worker,
                      created_by, queued_at, message) VALUES
      (10, 1, 1, 'schedule', 'failed', 1, 1, 'w', '', 0, ''),
      (11, 1, 2, 'rerun', 'success', 1, 1, 'w', '', 0, ''),
      (12, 1, 3, 'rerun', 'failed', 1, 1, 'w', '', 0, ''),
      (13, 1, 4, 'schedule', 'success', 1, 1, 'w', '', 0, '');
    INSERT INTO reruns VALUES (2, 1, 'done',
      '{"id":2,"items":[[1000,3],[2000,4]],"next":2}');
  )sql").ok());
  ASSERT_TRUE(sqlite::ApplyMigrations(db.get(), all).ok());
  EXPECT_EQ(QueryInt(db.get(), "SELECT COUNT(*) FROM actions WHERE scheduled_time = 1000"), 1);
  EXPECT_EQ(QueryInt(db.get(), "SELECT id FROM actions WHERE scheduled_time = 1000"), 1)
      << "the scheduled action is the one kept";
  EXPECT_EQ(QueryInt(db.get(), "SELECT COUNT(*) FROM runs"), 4) << "no run is lost";
  EXPECT_EQ(QueryInt(db.get(), "SELECT COUNT(*) FROM runs WHERE action_id = 1"), 3);
  EXPECT_EQ(*db->QueryText("SELECT json_extract(document, '$.items') FROM reruns"),
            "[[1000,1],[2000,4]]");
  EXPECT_EQ(*db->QueryText("SELECT upstream FROM actions WHERE id = 5"), "[1,4]");
  EXPECT_EQ(QueryInt(db.get(), "SELECT COUNT(*) FROM actions"), 3);
}

TEST(SqliteStoreTest, ErrorsCarryTheSqlContext) {
  TempDir dir;
  auto store = SqliteStore::Open({.path = dir.File("a.db")});
  ASSERT_TRUE(store.ok());
  core::WriteBatch b = OneJob();
  core::Job twin = b.jobs[0];
  twin.id = 2;
  b.jobs.push_back(twin);
  absl::Status st = (*store)->Commit(b);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("commit batch: job 2: UNIQUE constraint failed: jobs.group_id, jobs.name"));

  auto missing = (*store)->GetJob(7);
  EXPECT_EQ(missing.status().message(), "job 7 not found");
}

TEST(SqliteStoreTest, TextThatIsNotUtf8IsRejectedWhereJsonIsStored) {
  TempDir dir;
  auto store = SqliteStore::Open({.path = dir.File("a.db")});
  ASSERT_TRUE(store.ok());
  core::WriteBatch b = OneJob();
  b.jobs[0].script = "echo \xff\xfe";
  absl::Status st = (*store)->Commit(b);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("job 1"));
  EXPECT_EQ((*store)->GetGroup(1).status().code(), absl::StatusCode::kNotFound);
}

TEST(SqliteStoreTest, DamagedRowsAreInternalErrorsNamingTheColumn) {
  TempDir dir;
  const std::string path = dir.File("a.db");
  auto store = SqliteStore::Open({.path = path});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Commit(OneJob()).ok());
  auto db = Side(path);
  ASSERT_TRUE(db->Exec("UPDATE runs SET status = 'exploded'").ok());
  ASSERT_TRUE(db->Exec("UPDATE jobs SET definition = '{\"type\": \"cobol\"}'").ok());

  auto run = (*store)->GetRun(1);
  EXPECT_EQ(run.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(run.status().message()), HasSubstr("runs.status"));
  EXPECT_THAT(std::string(run.status().message()), HasSubstr("exploded"));
  auto job = (*store)->GetJob(1);
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(job.status().message()), HasSubstr("jobs.definition"));
  auto runs = (*store)->ListRuns({});
  EXPECT_EQ(runs.status().code(), absl::StatusCode::kInternal);
}

TEST(SqliteStoreTest, ReadsSeeCommitsAndManyReadersShareFewConnections) {
  TempDir dir;
  auto store = SqliteStore::Open({.path = dir.File("a.db"), .read_connections = 1});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Commit(OneJob()).ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) {
        if ((*store)->GetJob(1).ok() && (*store)->ListJobs({})->total == 1) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

}  // namespace
}  // namespace hera::store
