#include "store/sqlite/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace hera::store::sqlite {

absl::Status SqliteError(int rc, std::string_view sqlite_message, std::string_view context) {
  std::string message = context.empty()
                            ? std::string(sqlite_message)
                            : absl::StrCat(AsAbsl(context), ": ", AsAbsl(sqlite_message));
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::AlreadyExistsError(message);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return absl::FailedPreconditionError(message);
    default:
      break;
  }
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_FULL:  // "database or disk is full": as ENOSPC maps, so callers see one code
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

// ---- Statement ----

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::BindInt(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void Statement::BindText(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so `value` need not outlive the step.
  const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void Statement::BindOptionalInt(int index, const std::optional<int64_t>& value) {
  if (value) {
    BindInt(index, *value);
  } else {
    BindNull(index);
  }
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return SqliteError(bind_error_, sqlite3_errstr(bind_error_), "bind");
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc);
}

absl::Status Statement::Run() {
  absl::StatusOr<bool> row = Step();
  if (!row.ok()) return row.status();
  if (*row) {
    return absl::InternalError(
        absl::StrCat("statement returned a row where none was expected: ", AsAbsl(sql())));
  }
  return absl::OkStatus();
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  // Call text before bytes: that is the order SQLite documents for a stable length.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

std::optional<int64_t> Statement::ColumnOptionalInt(int column) const {
  if (ColumnIsNull(column)) return std::nullopt;
  return ColumnInt(column);
}

void Statement::Reset() {
  // sqlite3_reset repeats the last step's error code; it was already reported by Step().
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string_view Statement::sql() const {
  const char* text = sqlite3_sql(stmt_);
  return text == nullptr ? std::string_view() : std::string_view(text);
}

absl::Status Statement::Error(int rc) const {
  // With sqlite3_prepare_v3, step returns the extended code and errmsg matches it.
  return SqliteError(rc, sqlite3_errmsg(db_), "");
}

// ---- Db ----

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  // The database holds password and token hashes and sealed secrets: only its owner may read
  // it. SQLite creates the file with 0644 (less the umask) and gives its -wal and -shm files
  // the database's mode, so the file is made (or narrowed) to 0600 before SQLite opens it.
  if (path != ":memory:" && !path.empty()) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) {
      return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
    }
    if (::fchmod(fd.get(), 0600) < 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("chmod ", path));
    }
    for (const char* suffix : {"-wal", "-shm"}) {
      const std::string side = path + suffix;
      if (::chmod(side.c_str(), 0600) < 0 && errno != ENOENT) {
        return absl::ErrnoToStatus(errno, absl::StrCat("chmod ", side));
      }
    }
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time, guarded by SqliteStore, so
  // SQLite's own per-connection mutex would be redundant.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return SqliteError(rc, message, absl::StrCat("open ", path));
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  cache_.clear();  // finalize every statement before closing
  sqlite3_close_v2(db_);
}

absl::Status Db::Exec(std::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return SqliteError(sqlite3_extended_errcode(db_), message, "");
}

absl::StatusOr<ScopedStatement> Db::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError(rc, sqlite3_errmsg(db_), absl::StrCat("prepare \"", key, "\""));
    }
    if (stmt == nullptr) {  // only whitespace or a comment: a bug at the call site
      return absl::InternalError(absl::StrCat("prepare \"", key, "\": empty statement"));
    }
    it = cache_.emplace(std::move(key), std::make_unique<Statement>(db_, stmt)).first;
  }
  return ScopedStatement(it->second.get());
}

absl::StatusOr<std::string> Db::QueryText(std::string_view sql) {
  absl::StatusOr<ScopedStatement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = (*stmt)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError(absl::StrCat("no row from \"", AsAbsl(sql), "\""));
  return (*stmt)->ColumnText(0);
}

// ---- Transaction ----

absl::StatusOr<Transaction> Transaction::Begin(Db* db, Mode mode) {
  absl::StatusOr<ScopedStatement> begin =
      db->Prepare(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!begin.ok()) return begin.status();
  if (absl::Status st = (*begin)->Run(); !st.ok()) return st;
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  // Errors are ignored: if ROLLBACK fails SQLite has already rolled back (e.g. after IOERR).
  absl::StatusOr<ScopedStatement> rollback = db_->Prepare("ROLLBACK");
  if (rollback.ok()) (*rollback)->Run().IgnoreError();
}

absl::Status Transaction::Commit() {
  absl::StatusOr<ScopedStatement> commit = db_->Prepare("COMMIT");
  if (!commit.ok()) return commit.status();
  if (absl::Status st = (*commit)->Run(); !st.ok()) return st;
  db_ = nullptr;
  return absl::OkStatus();
}

}  // namespace hera::store::sqlite
