#pragma once
// The schema migrations shared by every SQL store. The numbered files in this folder
// (`0001_initial.sql`, ...) are the source of truth; the build embeds them into the binary
// (embed_migrations.cmake generates the definition of AllMigrations()).
//
// Rules for a new migration: add `NNNN_what.sql` with the next number, never edit one that has
// shipped, and keep the SQL portable between SQLite (>= 3.35) and PostgreSQL: BIGINT ids, TEXT,
// INTEGER 0/1 booleans, times as BIGINT microseconds since the epoch, no AUTOINCREMENT/SERIAL
// (the store assigns ids), no engine-specific functions.

#include <string_view>
#include <vector>

namespace hera::store {

struct Migration {
  int version = 0;        // 1, 2, ...: the file's number; applied in this order, each once
  std::string_view name;  // the file name, for errors and logs
  std::string_view sql;   // one or more statements separated by ';'
};

// Every migration, ordered by version; versions are 1..N without gaps.
const std::vector<Migration>& AllMigrations();

}  // namespace hera::store
