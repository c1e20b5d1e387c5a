#include "store/sqlite/sqlite_db.h"

#include <stdlib.h>

#include <filesystem>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hera::store::sqlite {
namespace {

using ::testing::HasSubstr;

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::path(::testing::TempDir()) / "hera_db_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto db = Db::Open((dir_ / "t.db").string());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT UNIQUE, n BIGINT);"
                          "CREATE TABLE c (p BIGINT NOT NULL REFERENCES t (id));"
                          "PRAGMA foreign_keys = ON;")
                    .ok());
  }
  void TearDown() override {
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  int64_t Count() {
    auto n = db_->QueryText("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? std::stoll(*n) : -1;
  }

  absl::Status Insert(int64_t id, std::string_view name) {
    auto stmt = db_->Prepare("INSERT INTO t (id, name, n) VALUES (?, ?, ?)");
    if (!stmt.ok()) return stmt.status();
    (*stmt)->BindInt(1, id);
    (*stmt)->BindText(2, name);
    (*stmt)->BindOptionalInt(3, std::nullopt);
    return (*stmt)->Run();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(SqliteDbTest, BindsAndReadsValues) {
  const std::string with_nul("a\0b ✓", 7);
  {
    auto stmt = db_->Prepare("INSERT INTO t (id, name, n) VALUES (?, ?, ?)");
    ASSERT_TRUE(stmt.ok());
    (*stmt)->BindInt(1, std::numeric_limits<int64_t>::max());
    (*stmt)->BindText(2, with_nul);
    (*stmt)->BindOptionalInt(3, -5);
    ASSERT_TRUE((*stmt)->Run().ok());
  }
  auto stmt = db_->Prepare("SELECT id, name, n, NULL FROM t");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*(*stmt)->Step());
  EXPECT_EQ((*stmt)->ColumnInt(0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ((*stmt)->ColumnText(1), with_nul);
  EXPECT_EQ((*stmt)->ColumnOptionalInt(2), -5);
  EXPECT_TRUE((*stmt)->ColumnIsNull(3));
  EXPECT_EQ((*stmt)->ColumnOptionalInt(3), std::nullopt);
  EXPECT_EQ((*stmt)->ColumnText(3), "");
  EXPECT_FALSE(*(*stmt)->Step());
}

TEST_F(SqliteDbTest, StatementsAreCachedAndResetAfterUse) {
  ASSERT_TRUE(Insert(1, "a").ok());
  Statement* first = nullptr;
  {
    auto stmt = db_->Prepare("SELECT name FROM t WHERE id = ?");
    ASSERT_TRUE(stmt.ok());
    first = &**stmt;
    (*stmt)->BindInt(1, 1);
    ASSERT_TRUE(*(*stmt)->Step());  // left mid-result: the scope end resets it
  }
  auto again = db_->Prepare("SELECT name FROM t WHERE id = ?");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(&**again, first);
  (*again)->BindInt(1, 1);
  ASSERT_TRUE(*(*again)->Step());
  EXPECT_EQ((*again)->ColumnText(0), "a");
}

TEST_F(SqliteDbTest, ErrorsMapToStatusCodes) {
  ASSERT_TRUE(Insert(1, "a").ok());
  absl::Status dup_name = Insert(2, "a");
  EXPECT_EQ(dup_name.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(dup_name.message()), HasSubstr("UNIQUE constraint failed: t.name"));
  EXPECT_EQ(Insert(1, "b").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(db_->Exec("INSERT INTO c (p) VALUES (42)").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_->Exec("INSERT INTO c (p) VALUES (NULL)").code(), absl::StatusCode::kInternal);
  auto bad = db_->Prepare("SELEC 1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("SELEC 1"));
  EXPECT_EQ(SqliteError(SQLITE_BUSY, "database is locked", "x").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteError(SQLITE_BUSY, "database is locked", "x").message(),
            "x: database is locked");
}

TEST_F(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  {
    auto txn = Transaction::Begin(db_.get(), Transaction::Mode::kImmediate);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(Insert(1, "a").ok());
  }
  EXPECT_EQ(Count(), 0);
  {
    auto txn = Transaction::Begin(db_.get(), Transaction::Mode::kImmediate);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(Insert(1, "a").ok());
    ASSERT_TRUE(txn->Commit().ok());
  }
  EXPECT_EQ(Count(), 1);
  {
    // A deferred foreign key fails at COMMIT; the destructor then rolls back.
    ASSERT_TRUE(db_->Exec("PRAGMA defer_foreign_keys = ON").ok());
    auto txn = Transaction::Begin(db_.get(), Transaction::Mode::kDeferred);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(Insert(2, "b").ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO c (p) VALUES (42)").ok());
    EXPECT_EQ(txn->Commit().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(Count(), 1);
  EXPECT_TRUE(Transaction::Begin(db_.get(), Transaction::Mode::kDeferred).ok());
}

}  // namespace
}  // namespace hera::store::sqlite
