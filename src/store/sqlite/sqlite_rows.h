#pragma once
// How each model type maps to its table row (schema: store/migrations/0001_initial.sql).
// Each kXColumns list is what ReadX() expects at columns 0..n-1 of a SELECT, and what BindX()
// binds at parameters 1..n of kUpsertX. Internal to the SQLite store.

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/model.h"
#include "store/sqlite/sqlite_db.h"

namespace hera::store::sqlite {

// Times as stored: microseconds since the epoch, with the infinities mapped to the extreme
// BIGINTs so that they round-trip (absl::FromUnixMicros(INT64_MAX) is finite).
int64_t TimeToDb(absl::Time t);
absl::Time TimeFromDb(int64_t micros);

extern const char kGroupColumns[];
extern const char kUpsertGroup[];
absl::Status BindGroup(const core::Group& group, Statement* stmt);
absl::StatusOr<core::Group> ReadGroup(const Statement& stmt);

extern const char kJobColumns[];
extern const char kUpsertJob[];
absl::Status BindJob(const core::Job& job, Statement* stmt);
absl::StatusOr<core::Job> ReadJob(const Statement& stmt);

extern const char kRevisionColumns[];
extern const char kUpsertRevision[];
absl::Status BindRevision(const core::JobRevision& rev, Statement* stmt);
absl::StatusOr<core::JobRevision> ReadRevision(const Statement& stmt);

extern const char kActionColumns[];
extern const char kUpsertAction[];
absl::Status BindAction(const core::Action& action, Statement* stmt);
absl::StatusOr<core::Action> ReadAction(const Statement& stmt);

extern const char kRunColumns[];
extern const char kUpsertRun[];
void BindRun(const core::Run& run, Statement* stmt);
absl::StatusOr<core::Run> ReadRun(const Statement& stmt);

extern const char kUserColumns[];
extern const char kInsertUser[];
void BindUser(const core::User& user, Statement* stmt);
core::User ReadUser(const Statement& stmt);

extern const char kTokenColumns[];
extern const char kUpsertToken[];
void BindToken(const core::ApiToken& token, Statement* stmt);
core::ApiToken ReadToken(const Statement& stmt);

}  // namespace hera::store::sqlite
