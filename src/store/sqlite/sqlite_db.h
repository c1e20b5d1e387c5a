#pragma once
// Thin RAII layer over the SQLite C API: a connection (Db) with a per-connection cache of
// prepared statements, a Statement with bind/step/column helpers, and a Transaction that rolls
// back unless committed. Every failure becomes an absl::Status carrying SQLite's message.
//
// Thread-safety: none of these classes is thread-safe. A Db and the statements it hands out are
// used by one thread at a time (the SqliteStore serialises access with a mutex or a pool).

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hera::store::sqlite {

// Converts SQLite result code `rc` (an extended code) to a Status: unique or primary-key
// violations are AlreadyExists, foreign-key violations FailedPrecondition, BUSY/LOCKED
// Unavailable, anything else Internal. The message is `context: <sqlite message>`.
absl::Status SqliteError(int rc, std::string_view sqlite_message, std::string_view context);

// A prepared statement. Bind indexes are 1-based, column indexes 0-based, as in SQLite.
// A bind failure (e.g. a string over SQLite's size limit) is remembered and returned by the next
// Step(), so call sites can chain binds without checking each one.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void BindInt(int index, int64_t value);
  void BindText(int index, std::string_view value);
  void BindNull(int index);
  void BindOptionalInt(int index, const std::optional<int64_t>& value);

  // Advances the statement: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps a statement that returns no rows to completion.
  absl::Status Run();

  bool ColumnIsNull(int column) const;
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  std::optional<int64_t> ColumnOptionalInt(int column) const;

  // Makes the statement ready for its next use and releases its read snapshot.
  void Reset();
  // The SQL text, for error context.
  std::string_view sql() const;

 private:
  absl::Status Error(int rc) const;

  sqlite3* db_;          // borrowed from the Db that prepared it
  sqlite3_stmt* stmt_;   // owned
  int bind_error_ = SQLITE_OK;
};

// A statement borrowed from a Db's cache for one use: Reset() runs when it goes out of scope,
// so a half-read SELECT never holds a read snapshot open.
class ScopedStatement {
 public:
  explicit ScopedStatement(Statement* stmt) : stmt_(stmt) {}
  ~ScopedStatement() {
    if (stmt_ != nullptr) stmt_->Reset();
  }
  ScopedStatement(ScopedStatement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  ScopedStatement& operator=(ScopedStatement&&) = delete;
  ScopedStatement(const ScopedStatement&) = delete;
  ScopedStatement& operator=(const ScopedStatement&) = delete;

  Statement* operator->() const { return stmt_; }
  Statement& operator*() const { return *stmt_; }

 private:
  Statement* stmt_;
};

// One SQLite connection. Owns the sqlite3 handle and its cached statements.
class Db {
 public:
  // Opens (creating if needed) the database file at `path` with extended result codes on.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more SQL statements that return no rows we need (PRAGMAs, DDL).
  absl::Status Exec(std::string_view sql);
  // Returns the cached prepared statement for `sql`, preparing it on first use. The statement
  // stays owned by this Db; nested use of the same SQL text at once is a bug.
  absl::StatusOr<ScopedStatement> Prepare(std::string_view sql);
  // Runs a single-row, single-column query such as `PRAGMA journal_mode=WAL`; returns its text.
  absl::StatusOr<std::string> QueryText(std::string_view sql);

  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}

  sqlite3* db_;  // owned; closed after every cached statement is finalized
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// A transaction on one connection. Rolls back in the destructor unless Commit() succeeded.
class Transaction {
 public:
  enum class Mode {
    kDeferred,   // takes the read snapshot at the first read (for consistent multi-query reads)
    kImmediate,  // takes the write lock at once (for writes: no upgrade deadlocks)
  };
  static absl::StatusOr<Transaction> Begin(Db* db, Mode mode);
  ~Transaction();
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Commits. On failure (e.g. a deferred foreign key violated) the destructor rolls back.
  absl::Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;  // borrowed; null once committed or moved from
};

}  // namespace hera::store::sqlite
