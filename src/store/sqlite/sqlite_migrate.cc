#include "store/sqlite/sqlite_migrate.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time_format.h"

namespace hera::store::sqlite {
namespace {

constexpr char kCreateVersionTable[] =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";  // microseconds since the epoch

absl::StatusOr<int64_t> ReadVersion(Db* db) {
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        db->Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  HERA_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return absl::InternalError("no row from MAX(version)");
  return stmt->ColumnInt(0);
}

absl::Status Apply(Db* db, const Migration& m, int64_t latest) {
  HERA_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, Transaction::Mode::kImmediate));
  HERA_RETURN_IF_ERROR(db->Exec(kCreateVersionTable));
  HERA_ASSIGN_OR_RETURN(int64_t current, ReadVersion(db));
  if (current > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("the database schema is at version ", current, ", newer than this binary's ",
                     latest, ": upgrade hera"));
  }
  if (current >= m.version) return absl::OkStatus();  // applied (perhaps by another process)
  if (current != m.version - 1) {
    return absl::InternalError(
        absl::StrCat("schema is at version ", current, ", cannot apply ", m.version));
  }
  HERA_RETURN_IF_ERROR(db->Exec(m.sql));
  {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement insert,
        db->Prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)"));
    insert->BindInt(1, m.version);
    insert->BindText(2, m.name);
    insert->BindInt(3, ToMicros(absl::Now()));
    HERA_RETURN_IF_ERROR(insert->Run());
  }
  return txn.Commit();
}

}  // namespace

absl::StatusOr<int64_t> SchemaVersion(Db* db) {
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement exists,
      db->Prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = "
                  "'schema_version'"));
  HERA_ASSIGN_OR_RETURN(bool row, exists->Step());
  if (!row || exists->ColumnInt(0) == 0) return 0;
  return ReadVersion(db);
}

absl::Status ApplyMigrations(Db* db, const std::vector<Migration>& migrations) {
  const int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  HERA_ASSIGN_OR_RETURN(int64_t current, SchemaVersion(db));
  if (current > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("the database schema is at version ", current, ", newer than this binary's ",
                     latest, ": upgrade hera"));
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    HERA_RETURN_IF_ERROR(
        WithContext(Apply(db, m, latest), absl::StrCat("migration ", AsAbsl(m.name))));
  }
  return absl::OkStatus();
}

}  // namespace hera::store::sqlite
