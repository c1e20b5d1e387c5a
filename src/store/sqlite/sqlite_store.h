#pragma once
// The embedded default Store (DESIGN.md §5): one SQLite file in WAL mode.
//
// Durability: WAL with synchronous=NORMAL. A commit is appended to the WAL and handed to the OS
// without an fsync (the WAL is synced at checkpoints), so every committed batch survives a crash
// or kill -9 of the process, which is the failure Hera must tolerate; a power loss or kernel
// crash may lose the last batches before a checkpoint but never corrupts the file. FULL would add
// an fsync to every engine tick for a failure mode that a single-node install accepts anyway.
//
// Concurrency: all writes (Commit, users, tokens) go through one connection under a mutex, as
// SQLite allows one writer at a time; reads take a connection from a small pool and run
// concurrently with each other and with the writer (WAL readers see the last committed state).
// Thread-safe. Times are kept at microsecond precision.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/store.h"
#include "store/sqlite/sqlite_db.h"

namespace hera::store {

struct SqliteOptions {
  // The database file; created, with the schema, if missing. Required.
  std::string path;
  // Connections for reads, each usable by one reader at a time (>= 1; default 4).
  int read_connections = 4;
  // How long a statement waits for a lock held by another connection or process before it
  // fails with Unavailable (default 5 s).
  absl::Duration busy_timeout = absl::Seconds(5);
};

class SqliteStore final : public core::Store {
 public:
  // Opens or creates the database at options.path and applies pending migrations. Errors:
  // InvalidArgument for bad options, FailedPrecondition for a schema newer than this binary,
  // Internal (with SQLite's message and the path) when the file cannot be opened or migrated.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Commit errors: AlreadyExists for a UNIQUE violation (e.g. two jobs with one name in a
  // group), FailedPrecondition for a broken reference (a job in a missing group, deleting a
  // group that still has jobs or subgroups), InvalidArgument for text that is not UTF-8 where
  // JSON is stored. Deleting an id that does not exist is not an error.
  absl::Status Commit(const core::WriteBatch& batch) override;
  // The highest id ever committed per kind, including rows deleted since: ids are not reused.
  absl::StatusOr<core::MaxIds> LoadMaxIds() override;

  absl::StatusOr<std::vector<core::Group>> ListGroups() override;
  absl::StatusOr<core::Group> GetGroup(core::GroupId id) override;

  absl::StatusOr<std::vector<core::Job>> ListAllJobs() override;
  // `q` matches ASCII letters case-insensitively and other characters exactly; '%' and '_' are
  // literal. InvalidArgument for a negative limit or offset.
  absl::StatusOr<core::Page<core::Job>> ListJobs(const core::JobFilter& filter) override;
  absl::StatusOr<core::Job> GetJob(core::JobId id) override;
  absl::StatusOr<std::vector<core::JobRevision>> ListJobRevisions(core::JobId id) override;

  absl::StatusOr<core::Action> GetAction(core::ActionId id) override;
  absl::StatusOr<core::RerunBatch> GetRerun(int64_t id) override;
  absl::StatusOr<std::vector<core::RerunBatch>> ListReruns(core::JobId job) override;
  absl::StatusOr<std::vector<core::RerunBatch>> ListUnfinishedReruns() override;
  absl::StatusOr<std::vector<core::Action>> ListActionsBetween(absl::Time from,
                                                               absl::Time to) override;
  absl::StatusOr<std::vector<core::Action>> ListActions(core::JobId job, absl::Time from,
                                                        absl::Time to) override;
  absl::StatusOr<std::vector<core::Action>> ListUnfinishedActions(absl::Time before) override;

  absl::StatusOr<core::Run> GetRun(core::RunId id) override;
  absl::StatusOr<core::Page<core::Run>> ListRuns(const core::RunFilter& filter) override;
  absl::StatusOr<std::vector<core::Run>> ListUnfinishedRuns() override;
  absl::StatusOr<std::vector<core::RunId>> ListRunsEndedBefore(absl::Time cutoff,
                                                               int64_t limit) override;
  absl::Status DeleteFinishedRuns(const std::vector<core::RunId>& ids) override;

  // CreateUser ignores user.id and assigns the next one (never reused).
  absl::StatusOr<core::User> CreateUser(const core::User& user) override;
  absl::StatusOr<core::User> GetUser(core::UserId id) override;
  absl::StatusOr<core::User> GetUserByName(std::string_view username) override;
  absl::StatusOr<int64_t> CountUsers() override;
  // Inserts or replaces the token with this hash. FailedPrecondition for an unknown user.
  absl::Status SaveToken(const core::ApiToken& token) override;
  absl::StatusOr<core::ApiToken> GetToken(std::string_view token_hash) override;
  // NotFound for an unknown hash.
  absl::Status DeleteToken(std::string_view token_hash) override;
  absl::StatusOr<core::Backfill> GetBackfill(int64_t id) override;
  absl::StatusOr<std::vector<core::Backfill>> ListBackfills(int64_t limit) override;
  absl::StatusOr<std::vector<core::Backfill>> ListUnfinishedBackfills() override;
  absl::Status AddHostGroups(const std::vector<std::string>& names, absl::Time now) override;
  absl::StatusOr<std::vector<std::string>> ListHostGroups() override;

 private:
  // Reruns matching `where` (with one bound integer `arg` unless it is 0).
  // Backfills matching `where` (with ? bound to `arg` when non-zero), each with its nodes.
  absl::StatusOr<std::vector<core::Backfill>> QueryBackfills(const std::string& where,
                                                             int64_t arg);
  absl::StatusOr<std::vector<core::RerunBatch>> QueryReruns(const std::string& where,
                                                           int64_t arg);
  class ReaderLease;

  SqliteStore(std::unique_ptr<sqlite::Db> writer, std::vector<std::unique_ptr<sqlite::Db>> readers);

  // Blocks until a read connection is free; the lease returns it.
  ReaderLease AcquireReader();
  void ReleaseReader(std::unique_ptr<sqlite::Db> db);

  absl::Status CommitLocked(const core::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  absl::Mutex write_mu_;
  // Protected by write_mu_: the only connection that writes.
  std::unique_ptr<sqlite::Db> writer_ ABSL_GUARDED_BY(write_mu_);

  absl::Mutex read_mu_;
  // Protected by read_mu_: read connections not lent out right now.
  std::vector<std::unique_ptr<sqlite::Db>> idle_readers_ ABSL_GUARDED_BY(read_mu_);
  absl::CondVar reader_returned_;  // signalled when a connection goes back to idle_readers_
};

}  // namespace hera::store
