#pragma once
// Brings a SQLite database's schema up to date with a list of migrations.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/migrations/migrations.h"
#include "store/sqlite/sqlite_db.h"

namespace hera::store::sqlite {

// Applies, in order, each migration newer than the database's schema_version (creating that
// table first), each in its own IMMEDIATE transaction together with its schema_version row, so
// a failed migration leaves the schema at the previous version. Safe against another process
// migrating the same file at once: the version is re-read under the write lock.
// `migrations` must be ordered by version 1..N. FailedPrecondition if the database is newer than
// the last migration (a newer binary wrote it); the failing migration's name otherwise.
absl::Status ApplyMigrations(Db* db, const std::vector<Migration>& migrations);

// The highest applied migration version; 0 for a database without schema_version.
absl::StatusOr<int64_t> SchemaVersion(Db* db);

}  // namespace hera::store::sqlite
