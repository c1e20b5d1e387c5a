#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_text.h"
#include "common/status.h"
#include "common/time_format.h"
#include "core/json_codec.h"
#include "common/strings.h"
#include "store/migrations/migrations.h"
#include "common/mutex_lock.h"
#include "store/sqlite/sqlite_migrate.h"
#include "store/sqlite/sqlite_rows.h"

namespace hera::store {

using sqlite::Db;
using sqlite::ScopedStatement;
using sqlite::Statement;
using sqlite::Transaction;

namespace {

constexpr core::ActionStatus kActionStatuses[] = {
    core::ActionStatus::kPending, core::ActionStatus::kWaiting,  core::ActionStatus::kQueued,
    core::ActionStatus::kRunning, core::ActionStatus::kSuccess,  core::ActionStatus::kFailed,
    core::ActionStatus::kCancelled, core::ActionStatus::kSkipped};
constexpr core::RunStatus kRunStatuses[] = {
    core::RunStatus::kQueued, core::RunStatus::kRunning,   core::RunStatus::kSuccess,
    core::RunStatus::kFailed, core::RunStatus::kCancelled, core::RunStatus::kLost};

// "'pending', 'waiting', ...": the wire names of the statuses that are not terminal. The names
// are lower-case identifiers, so quoting them into the SQL text is safe.
template <typename Status, size_t N>
std::string UnfinishedList(const Status (&all)[N]) {
  std::vector<std::string> names;
  for (Status s : all) {
    if (!core::IsTerminal(s)) names.push_back(absl::StrCat("'", AsAbsl(core::Name(s)), "'"));
  }
  return absl::StrJoin(names, ", ");
}

// Parameters of a query assembled from optional filters, bound in order from index 1.
using Param = std::variant<int64_t, std::string>;

void BindParams(const std::vector<Param>& params, Statement* stmt) {
  int index = 1;
  for (const Param& p : params) {
    if (const int64_t* i = std::get_if<int64_t>(&p)) {
      stmt->BindInt(index++, *i);
    } else {
      stmt->BindText(index++, std::get<std::string>(p));
    }
  }
}

// A LIKE pattern matching `q` anywhere, with LIKE's wildcards and the escape made literal.
std::string ContainsPattern(std::string_view q) {
  std::string pattern = "%";
  for (char c : absl::AsciiStrToLower(AsAbsl(q))) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  return pattern;
}

// Steps `stmt` to the end, appending read(stmt) for each row.
template <typename T, typename Read>
absl::Status CollectRows(Statement& stmt, Read read, std::vector<T>* out) {
  while (true) {
    HERA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return absl::OkStatus();
    absl::StatusOr<T> item = read(stmt);
    if (!item.ok()) return item.status();
    out->push_back(*std::move(item));
  }
}

// The first row of `stmt` through read(), or NotFound with `what` ("job 5 not found").
template <typename T, typename Read>
absl::StatusOr<T> FirstRow(Statement& stmt, Read read, std::string_view what) {
  HERA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat(AsAbsl(what), " not found"));
  return read(stmt);
}

absl::StatusOr<int64_t> SingleInt(Statement& stmt) {
  HERA_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError(absl::StrCat("no row from ", AsAbsl(stmt.sql())));
  return stmt.ColumnInt(0);
}

absl::Status CheckPage(int64_t limit, int64_t offset) {
  if (limit < 0 || offset < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit and offset must not be negative (", limit, ", ", offset, ")"));
  }
  return absl::OkStatus();
}

absl::Status ConfigureConnection(Db* db, const SqliteOptions& options, bool reader) {
  const int timeout_ms = static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(options.busy_timeout), 0, INT32_MAX));
  HERA_RETURN_IF_ERROR(db->Exec(absl::StrCat("PRAGMA busy_timeout = ", timeout_ms)));
  HERA_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  if (reader) return db->Exec("PRAGMA query_only = ON");
  // WAL persists in the file; setting it on the writer, before any reader opens, is enough.
  HERA_ASSIGN_OR_RETURN(std::string mode, db->QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return absl::InternalError(absl::StrCat("cannot enable WAL (journal_mode is ", mode, ")"));
  }
  // See the durability note in sqlite_store.h.
  return db->Exec("PRAGMA synchronous = NORMAL");
}

constexpr char kUpsertHighWater[] =
    "INSERT INTO id_high_water (kind, max_id) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET"
    " max_id = CASE WHEN excluded.max_id > id_high_water.max_id THEN excluded.max_id"
    " ELSE id_high_water.max_id END";

absl::Status RaiseHighWater(Db* db, std::string_view kind, int64_t max_id) {
  if (max_id <= 0) return absl::OkStatus();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(kUpsertHighWater));
  stmt->BindText(1, kind);
  stmt->BindInt(2, max_id);
  return stmt->Run();
}

absl::Status DeleteById(Db* db, std::string_view sql, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(sql));
  stmt->BindInt(1, id);
  return stmt->Run();
}

template <typename T>
int64_t MaxId(const std::vector<T>& rows) {
  int64_t max = 0;
  for (const T& row : rows) max = std::max<int64_t>(max, row.id);
  return max;
}

// The rows of `rows` that a commit writes: a row whose id comes again later in the batch is
// superseded by that later version (an upsert sets every column but the immutable ones, which
// no version changes), so only each id's last version is written, in batch order. A run queued,
// started and ended within one engine turn is then one statement, not three.
template <typename Row>
std::vector<const Row*> LastVersions(const std::vector<Row>& rows) {
  std::vector<const Row*> out;
  out.reserve(rows.size());
  if (rows.size() <= 1) {
    for (const Row& row : rows) out.push_back(&row);
    return out;
  }
  absl::flat_hash_map<int64_t, size_t> last;
  last.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) last[rows[i].id] = i;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (last[rows[i].id] == i) out.push_back(&rows[i]);
  }
  return out;
}

}  // namespace

// A read connection lent by AcquireReader(); returned to the pool when destroyed.
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<Db> db) : store_(store), db_(std::move(db)) {}
  ~ReaderLease() { store_->ReleaseReader(std::move(db_)); }
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;

  Db* get() const { return db_.get(); }
  Db* operator->() const { return db_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<Db> db_;
};

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("SqliteOptions.path is empty");
  if (options.read_connections < 1) {
    return absl::InvalidArgumentError(absl::StrCat("SqliteOptions.read_connections is ",
                                                   options.read_connections, "; at least 1"));
  }
  const std::string context = absl::StrCat("open ", options.path);
  HERA_ASSIGN_OR_RETURN(std::unique_ptr<Db> writer, Db::Open(options.path));
  HERA_RETURN_IF_ERROR(WithContext(ConfigureConnection(writer.get(), options, false), context));
  HERA_RETURN_IF_ERROR(WithContext(sqlite::ApplyMigrations(writer.get(), AllMigrations()),
                                   absl::StrCat("migrate ", options.path)));
  std::vector<std::unique_ptr<Db>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    HERA_ASSIGN_OR_RETURN(std::unique_ptr<Db> reader, Db::Open(options.path));
    HERA_RETURN_IF_ERROR(WithContext(ConfigureConnection(reader.get(), options, true), context));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(writer), std::move(readers)));
}

SqliteStore::SqliteStore(std::unique_ptr<Db> writer, std::vector<std::unique_ptr<Db>> readers)
    : writer_(std::move(writer)), idle_readers_(std::move(readers)) {}

SqliteStore::~SqliteStore() = default;

SqliteStore::ReaderLease SqliteStore::AcquireReader() {
  MutexLock lock(&read_mu_);
  while (idle_readers_.empty()) lock.Wait(&reader_returned_);
  std::unique_ptr<Db> db = std::move(idle_readers_.back());
  idle_readers_.pop_back();
  return ReaderLease(this, std::move(db));
}

void SqliteStore::ReleaseReader(std::unique_ptr<Db> db) {
  MutexLock lock(&read_mu_);
  idle_readers_.push_back(std::move(db));
  reader_returned_.Signal();
}

// ---- writes ----

absl::Status SqliteStore::Commit(const core::WriteBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  MutexLock lock(&write_mu_);
  return WithContext(CommitLocked(batch), "commit batch");
}

absl::Status SqliteStore::CommitLocked(const core::WriteBatch& batch) {
  Db* db = writer_.get();
  HERA_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, Transaction::Mode::kImmediate));
  // Foreign keys are deferred to COMMIT, so the order below only matters for UNIQUE checks.
  for (const std::string& name : batch.host_groups) {
    HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                          db->Prepare("INSERT INTO host_groups (name, created_at) VALUES (?, ?) "
                                      "ON CONFLICT (name) DO NOTHING"));
    stmt->BindText(1, name);
    stmt->BindInt(2, ToMicros(absl::Now()));
    HERA_RETURN_IF_ERROR(WithContext(stmt->Run(), absl::StrCat("host group ", name)));
  }
  for (const core::Group& g : batch.groups) {
    HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(sqlite::kUpsertGroup));
    absl::Status st = sqlite::BindGroup(g, &*stmt);
    if (st.ok()) st = stmt->Run();
    HERA_RETURN_IF_ERROR(WithContext(st, absl::StrCat("group ", g.id)));
  }
  for (const core::Job& job : batch.jobs) {
    HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(sqlite::kUpsertJob));
    absl::Status st = sqlite::BindJob(job, &*stmt);
    if (st.ok()) st = stmt->Run();
    HERA_RETURN_IF_ERROR(WithContext(st, absl::StrCat("job ", job.id)));
  }
  for (const core::JobRevision& rev : batch.revisions) {
    HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(sqlite::kUpsertRevision));
    absl::Status st = sqlite::BindRevision(rev, &*stmt);
    if (st.ok()) st = stmt->Run();
    HERA_RETURN_IF_ERROR(
        WithContext(st, absl::StrCat("job ", rev.job_id, " revision ", rev.version)));
  }
  for (const core::Action* a : LastVersions(batch.actions)) {
    HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(sqlite::kUpsertAction));
    absl::Status st = sqlite::BindAction(*a, &*stmt);
    if (st.ok()) st = stmt->Run();
    HERA_RETURN_IF_ERROR(WithContext(st, absl::StrCat("action ", a->id)));
  }
  for (const core::Run* r : LastVersions(batch.runs)) {
    HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(sqlite::kUpsertRun));
    sqlite::BindRun(*r, &*stmt);
    HERA_RETURN_IF_ERROR(WithContext(stmt->Run(), absl::StrCat("run ", r->id)));
  }
  for (const core::RerunBatch& r : batch.reruns) {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement stmt,
        db->Prepare("INSERT INTO reruns (id, job_id, status, document) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET job_id = excluded.job_id,"
                    " status = excluded.status, document = excluded.document"));
    stmt->BindInt(1, r.id);
    stmt->BindInt(2, r.job_id);
    stmt->BindText(3, core::Name(r.status));
    stmt->BindText(4, core::RerunToDocument(r).dump());
    HERA_RETURN_IF_ERROR(WithContext(stmt->Run(), absl::StrCat("rerun ", r.id)));
  }
  for (const core::Backfill& b : batch.backfills) {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement stmt,
        db->Prepare("INSERT INTO backfills (id, status, document) VALUES (?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET status = excluded.status,"
                    " document = excluded.document"));
    stmt->BindInt(1, b.id);
    stmt->BindText(2, core::Name(b.status));
    stmt->BindText(3, core::BackfillToDocument(b).dump());
    HERA_RETURN_IF_ERROR(WithContext(stmt->Run(), absl::StrCat("backfill ", b.id)));
  }
  for (const core::WriteBatch::NodeRow& row : batch.backfill_nodes) {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement stmt,
        db->Prepare("INSERT INTO backfill_nodes (backfill_id, idx, job_id, scheduled_time,"
                    " action_id, state, upstream) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (backfill_id, idx) DO UPDATE SET action_id = excluded.action_id,"
                    " state = excluded.state"));
    stmt->BindInt(1, row.backfill_id);
    stmt->BindInt(2, row.index);
    stmt->BindInt(3, row.node.job_id);
    stmt->BindInt(4, ToMicros(row.node.time));
    stmt->BindInt(5, row.node.action_id);
    stmt->BindText(6, core::Name(row.node.state));
    stmt->BindText(7, nlohmann::json(row.node.upstream).dump());
    HERA_RETURN_IF_ERROR(WithContext(
        stmt->Run(), absl::StrCat("backfill ", row.backfill_id, " node ", row.index)));
  }
  // Deletes come after the upserts: an id both written and deleted in one batch is deleted.
  for (core::ActionId id : batch.deleted_actions) {
    HERA_RETURN_IF_ERROR(WithContext(DeleteById(db, "DELETE FROM actions WHERE id = ?", id),
                                     absl::StrCat("delete action ", id)));
  }
  for (core::JobId id : batch.deleted_jobs) {
    // Explicit rather than ON DELETE CASCADE, so it holds whatever the FK settings.
    for (const char* sql :
         {"DELETE FROM runs WHERE job_id = ?", "DELETE FROM actions WHERE job_id = ?",
          "DELETE FROM reruns WHERE job_id = ?",
          "DELETE FROM job_revisions WHERE job_id = ?", "DELETE FROM jobs WHERE id = ?"}) {
      HERA_RETURN_IF_ERROR(WithContext(DeleteById(db, sql, id), absl::StrCat("delete job ", id)));
    }
  }
  for (core::GroupId id : batch.deleted_groups) {
    HERA_RETURN_IF_ERROR(WithContext(DeleteById(db, "DELETE FROM groups WHERE id = ?", id),
                                     absl::StrCat("delete group ", id)));
  }
  HERA_RETURN_IF_ERROR(RaiseHighWater(db, "group", MaxId(batch.groups)));
  HERA_RETURN_IF_ERROR(RaiseHighWater(db, "job", MaxId(batch.jobs)));
  HERA_RETURN_IF_ERROR(RaiseHighWater(db, "action", MaxId(batch.actions)));
  HERA_RETURN_IF_ERROR(RaiseHighWater(db, "run", MaxId(batch.runs)));
  HERA_RETURN_IF_ERROR(RaiseHighWater(db, "rerun", MaxId(batch.reruns)));
  HERA_RETURN_IF_ERROR(RaiseHighWater(db, "backfill", MaxId(batch.backfills)));
  return txn.Commit();  // checks the deferred foreign keys
}

absl::StatusOr<core::User> SqliteStore::CreateUser(const core::User& user) {
  MutexLock lock(&write_mu_);
  Db* db = writer_.get();
  const std::string context = absl::StrCat("create user \"", user.username, "\"");
  auto create = [&]() -> absl::StatusOr<core::User> {
    HERA_ASSIGN_OR_RETURN(Transaction txn,
                          Transaction::Begin(db, Transaction::Mode::kImmediate));
    core::User created = user;
    {
      HERA_ASSIGN_OR_RETURN(
          ScopedStatement max,
          db->Prepare("SELECT (SELECT COALESCE(MAX(max_id), 0) FROM id_high_water"
                      " WHERE kind = 'user'), (SELECT COALESCE(MAX(id), 0) FROM users)"));
      HERA_ASSIGN_OR_RETURN(bool row, max->Step());
      if (!row) return absl::InternalError("no row from MAX(users.id)");
      created.id = std::max(max->ColumnInt(0), max->ColumnInt(1)) + 1;
    }
    {
      HERA_ASSIGN_OR_RETURN(ScopedStatement insert, db->Prepare(sqlite::kInsertUser));
      sqlite::BindUser(created, &*insert);
      HERA_RETURN_IF_ERROR(insert->Run());
    }
    HERA_RETURN_IF_ERROR(RaiseHighWater(db, "user", created.id));
    HERA_RETURN_IF_ERROR(txn.Commit());
    return created;
  };
  absl::StatusOr<core::User> created = create();
  if (!created.ok()) return WithContext(created.status(), context);
  return created;
}

absl::Status SqliteStore::SaveToken(const core::ApiToken& token) {
  MutexLock lock(&write_mu_);
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, writer_->Prepare(sqlite::kUpsertToken));
  sqlite::BindToken(token, &*stmt);
  return WithContext(stmt->Run(), absl::StrCat("save token of user ", token.user_id));
}

absl::Status SqliteStore::DeleteToken(std::string_view token_hash) {
  MutexLock lock(&write_mu_);
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        writer_->Prepare("DELETE FROM api_tokens WHERE token_hash = ?"));
  stmt->BindText(1, token_hash);
  HERA_RETURN_IF_ERROR(WithContext(stmt->Run(), "delete token"));
  if (sqlite3_changes(writer_->raw()) == 0) return absl::NotFoundError("token not found");
  return absl::OkStatus();
}

absl::Status SqliteStore::AddHostGroups(const std::vector<std::string>& names, absl::Time now) {
  MutexLock lock(&write_mu_);
  for (const std::string& name : names) {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement stmt,
        writer_->Prepare("INSERT INTO host_groups (name, created_at) VALUES (?, ?) "
                         "ON CONFLICT (name) DO NOTHING"));
    stmt->BindText(1, name);
    stmt->BindInt(2, ToMicros(now));
    HERA_RETURN_IF_ERROR(WithContext(stmt->Run(), "add host group"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SqliteStore::ListHostGroups() {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        db->Prepare("SELECT name FROM host_groups ORDER BY name"));
  std::vector<std::string> out;
  for (;;) {
    HERA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    out.push_back(stmt->ColumnText(0));
  }
  return out;
}

// ---- reads ----

absl::StatusOr<core::MaxIds> SqliteStore::LoadMaxIds() {
  ReaderLease db = AcquireReader();
  // Both the high-water marks and the tables: the tables cover rows that predate the marks.
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare("SELECT"
                  " (SELECT COALESCE(MAX(max_id), 0) FROM id_high_water WHERE kind = 'group'),"
                  " (SELECT COALESCE(MAX(id), 0) FROM groups),"
                  " (SELECT COALESCE(MAX(max_id), 0) FROM id_high_water WHERE kind = 'job'),"
                  " (SELECT COALESCE(MAX(id), 0) FROM jobs),"
                  " (SELECT COALESCE(MAX(max_id), 0) FROM id_high_water WHERE kind = 'action'),"
                  " (SELECT COALESCE(MAX(id), 0) FROM actions),"
                  " (SELECT COALESCE(MAX(max_id), 0) FROM id_high_water WHERE kind = 'run'),"
                  " (SELECT COALESCE(MAX(id), 0) FROM runs),"
                  " (SELECT COALESCE(MAX(max_id), 0) FROM id_high_water WHERE kind = 'rerun'),"
                  " (SELECT COALESCE(MAX(id), 0) FROM reruns),"
                  " (SELECT COALESCE(MAX(max_id), 0) FROM id_high_water WHERE kind = 'backfill'),"
                  " (SELECT COALESCE(MAX(id), 0) FROM backfills)"));
  HERA_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return absl::InternalError("load max ids: no row");
  core::MaxIds ids;
  ids.group = std::max(stmt->ColumnInt(0), stmt->ColumnInt(1));
  ids.job = std::max(stmt->ColumnInt(2), stmt->ColumnInt(3));
  ids.action = std::max(stmt->ColumnInt(4), stmt->ColumnInt(5));
  ids.run = std::max(stmt->ColumnInt(6), stmt->ColumnInt(7));
  ids.rerun = std::max(stmt->ColumnInt(8), stmt->ColumnInt(9));
  ids.backfill = std::max(stmt->ColumnInt(10), stmt->ColumnInt(11));
  return ids;
}

absl::StatusOr<std::vector<core::Backfill>> SqliteStore::QueryBackfills(const std::string& where,
                                                                       int64_t arg) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        db->Prepare(absl::StrCat("SELECT id, document FROM backfills ", where)));
  if (arg) stmt->BindInt(1, arg);
  std::vector<core::Backfill> out;
  for (;;) {
    HERA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    const auto doc = ParseJsonText(stmt->ColumnText(1));
    if (!doc.ok()) {
      return absl::InternalError(absl::StrCat("backfill ", stmt->ColumnInt(0),
                                              ": bad document: ", doc.status().message()));
    }
    HERA_ASSIGN_OR_RETURN(core::Backfill b, core::BackfillFromDocument(*doc));
    out.push_back(std::move(b));
  }
  for (core::Backfill& b : out) {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement nodes,
        db->Prepare("SELECT job_id, scheduled_time, action_id, state, upstream FROM"
                    " backfill_nodes WHERE backfill_id = ? ORDER BY idx"));
    nodes->BindInt(1, b.id);
    for (;;) {
      HERA_ASSIGN_OR_RETURN(bool row, nodes->Step());
      if (!row) break;
      core::BackfillNode n;
      n.job_id = nodes->ColumnInt(0);
      n.time = FromMicros(nodes->ColumnInt(1));
      n.action_id = nodes->ColumnInt(2);
      auto state = core::ParseNodeState(nodes->ColumnText(3));
      auto upstream = ParseJsonText(nodes->ColumnText(4));
      if (!state || !upstream.ok() || !upstream->is_array()) {
        return absl::InternalError(absl::StrCat("backfill ", b.id, ": bad node row"));
      }
      for (const auto& up : *upstream) {
        if (up.is_number_integer()) n.upstream.push_back(up.get<int>());
      }
      n.state = *state;
      b.nodes.push_back(std::move(n));
    }
  }
  return out;
}

absl::StatusOr<core::Backfill> SqliteStore::GetBackfill(int64_t id) {
  HERA_ASSIGN_OR_RETURN(auto found, QueryBackfills("WHERE id = ?", id));
  if (found.empty()) return absl::NotFoundError(absl::StrCat("backfill ", id, " not found"));
  return found.front();
}

absl::StatusOr<std::vector<core::Backfill>> SqliteStore::ListBackfills(int64_t limit) {
  return QueryBackfills(absl::StrCat("ORDER BY id DESC LIMIT ", std::max<int64_t>(1, limit)), 0);
}

absl::StatusOr<std::vector<core::Backfill>> SqliteStore::ListUnfinishedBackfills() {
  return QueryBackfills("WHERE status = 'running' ORDER BY id", 0);
}

absl::StatusOr<std::vector<core::RerunBatch>> SqliteStore::QueryReruns(const std::string& where,
                                                                      int64_t arg) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        db->Prepare(absl::StrCat("SELECT id, document FROM reruns ", where)));
  if (arg) stmt->BindInt(1, arg);
  std::vector<core::RerunBatch> out;
  for (;;) {
    HERA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    const auto doc = ParseJsonText(stmt->ColumnText(1));
    if (!doc.ok()) {
      return absl::InternalError(absl::StrCat("rerun ", stmt->ColumnInt(0), ": bad document: ",
                                              doc.status().message()));
    }
    HERA_ASSIGN_OR_RETURN(core::RerunBatch batch, core::RerunFromDocument(*doc));
    out.push_back(std::move(batch));
  }
  return out;
}

absl::StatusOr<core::RerunBatch> SqliteStore::GetRerun(int64_t id) {
  HERA_ASSIGN_OR_RETURN(auto batches, QueryReruns("WHERE id = ?", id));
  if (batches.empty()) return absl::NotFoundError(absl::StrCat("rerun batch ", id, " not found"));
  return batches.front();
}

absl::StatusOr<std::vector<core::RerunBatch>> SqliteStore::ListReruns(core::JobId job) {
  if (job == 0) return QueryReruns("ORDER BY id DESC", 0);
  return QueryReruns("WHERE job_id = ? ORDER BY id DESC", job);
}

absl::StatusOr<std::vector<core::RerunBatch>> SqliteStore::ListUnfinishedReruns() {
  return QueryReruns("WHERE status IN ('running', 'waiting') ORDER BY id", 0);
}

absl::StatusOr<std::vector<core::Group>> SqliteStore::ListGroups() {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kGroupColumns, " FROM groups ORDER BY id")));
  std::vector<core::Group> groups;
  HERA_RETURN_IF_ERROR(WithContext(CollectRows(*stmt, sqlite::ReadGroup, &groups), "list groups"));
  return groups;
}

absl::StatusOr<core::Group> SqliteStore::GetGroup(core::GroupId id) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kGroupColumns, " FROM groups WHERE id = ?")));
  stmt->BindInt(1, id);
  return FirstRow<core::Group>(*stmt, sqlite::ReadGroup, absl::StrCat("group ", id));
}

absl::StatusOr<std::vector<core::Job>> SqliteStore::ListAllJobs() {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kJobColumns, " FROM jobs ORDER BY id")));
  std::vector<core::Job> jobs;
  HERA_RETURN_IF_ERROR(WithContext(CollectRows(*stmt, sqlite::ReadJob, &jobs), "list jobs"));
  return jobs;
}

absl::StatusOr<core::Page<core::Job>> SqliteStore::ListJobs(const core::JobFilter& filter) {
  HERA_RETURN_IF_ERROR(CheckPage(filter.limit, filter.offset));
  std::vector<std::string> where;
  std::vector<Param> params;
  if (filter.group_id) {
    where.push_back("group_id = ?");
    params.push_back(*filter.group_id);
  }
  if (!filter.q.empty()) {
    where.push_back("LOWER(name) LIKE ? ESCAPE '\\'");
    params.push_back(ContainsPattern(filter.q));
  }
  const std::string where_sql =
      where.empty() ? "" : absl::StrCat(" WHERE ", absl::StrJoin(where, " AND "));

  ReaderLease db = AcquireReader();
  // One snapshot for the count and the page, so that total agrees with the items.
  HERA_ASSIGN_OR_RETURN(Transaction txn,
                        Transaction::Begin(db.get(), Transaction::Mode::kDeferred));
  core::Page<core::Job> page;
  {
    HERA_ASSIGN_OR_RETURN(ScopedStatement count,
                          db->Prepare(absl::StrCat("SELECT COUNT(*) FROM jobs", where_sql)));
    BindParams(params, &*count);
    HERA_ASSIGN_OR_RETURN(page.total, SingleInt(*count));
  }
  {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement stmt,
        db->Prepare(absl::StrCat("SELECT ", sqlite::kJobColumns, " FROM jobs", where_sql,
                                 " ORDER BY id LIMIT ? OFFSET ?")));
    params.push_back(filter.limit);
    params.push_back(filter.offset);
    BindParams(params, &*stmt);
    HERA_RETURN_IF_ERROR(WithContext(CollectRows(*stmt, sqlite::ReadJob, &page.items), "list jobs"));
  }
  HERA_RETURN_IF_ERROR(txn.Commit());
  return page;
}

absl::StatusOr<core::Job> SqliteStore::GetJob(core::JobId id) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kJobColumns, " FROM jobs WHERE id = ?")));
  stmt->BindInt(1, id);
  return FirstRow<core::Job>(*stmt, sqlite::ReadJob, absl::StrCat("job ", id));
}

absl::StatusOr<std::vector<core::JobRevision>> SqliteStore::ListJobRevisions(core::JobId id) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kRevisionColumns,
                               " FROM job_revisions WHERE job_id = ? ORDER BY version DESC")));
  stmt->BindInt(1, id);
  std::vector<core::JobRevision> revisions;
  HERA_RETURN_IF_ERROR(WithContext(CollectRows(*stmt, sqlite::ReadRevision, &revisions),
                                   absl::StrCat("list revisions of job ", id)));
  return revisions;
}

absl::StatusOr<core::Action> SqliteStore::GetAction(core::ActionId id) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kActionColumns, " FROM actions WHERE id = ?")));
  stmt->BindInt(1, id);
  return FirstRow<core::Action>(*stmt, sqlite::ReadAction, absl::StrCat("action ", id));
}

absl::StatusOr<std::vector<core::Action>> SqliteStore::ListActions(core::JobId job,
                                                                   absl::Time from,
                                                                   absl::Time to) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kActionColumns,
                               " FROM actions WHERE job_id = ? AND scheduled_time >= ?"
                               " AND scheduled_time < ? ORDER BY scheduled_time, id")));
  stmt->BindInt(1, job);
  stmt->BindInt(2, sqlite::TimeToDb(from));
  stmt->BindInt(3, sqlite::TimeToDb(to));
  std::vector<core::Action> actions;
  HERA_RETURN_IF_ERROR(WithContext(CollectRows(*stmt, sqlite::ReadAction, &actions),
                                   absl::StrCat("list actions of job ", job)));
  return actions;
}

absl::StatusOr<std::vector<core::Action>> SqliteStore::ListActionsBetween(absl::Time from,
                                                                          absl::Time to) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kActionColumns,
                               " FROM actions WHERE scheduled_time >= ? AND scheduled_time < ?"
                               " ORDER BY scheduled_time, id")));
  stmt->BindInt(1, sqlite::TimeToDb(from));
  stmt->BindInt(2, sqlite::TimeToDb(to));
  std::vector<core::Action> actions;
  HERA_RETURN_IF_ERROR(
      WithContext(CollectRows(*stmt, sqlite::ReadAction, &actions), "list actions in a window"));
  return actions;
}

absl::StatusOr<std::vector<core::Action>> SqliteStore::ListUnfinishedActions(absl::Time before) {
  // Served by the (status, scheduled_time) index: the ranges of the unfinished statuses.
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", sqlite::kActionColumns, " FROM actions WHERE status IN (",
                   UnfinishedList(kActionStatuses), ") AND scheduled_time < ? ORDER BY id"));
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(*kSql));
  stmt->BindInt(1, before == absl::InfiniteFuture() ? std::numeric_limits<int64_t>::max()
                                                    : sqlite::TimeToDb(before));
  std::vector<core::Action> actions;
  HERA_RETURN_IF_ERROR(WithContext(CollectRows(*stmt, sqlite::ReadAction, &actions),
                                   "list unfinished actions"));
  return actions;
}

absl::StatusOr<core::Run> SqliteStore::GetRun(core::RunId id) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kRunColumns, " FROM runs WHERE id = ?")));
  stmt->BindInt(1, id);
  return FirstRow<core::Run>(*stmt, sqlite::ReadRun, absl::StrCat("run ", id));
}

absl::StatusOr<core::Page<core::Run>> SqliteStore::ListRuns(const core::RunFilter& filter) {
  HERA_RETURN_IF_ERROR(CheckPage(filter.limit, filter.offset));
  std::vector<std::string> where;
  std::vector<Param> params;
  if (filter.job_id) {
    where.push_back("job_id = ?");
    params.push_back(*filter.job_id);
  }
  if (filter.action_id) {
    where.push_back("action_id = ?");
    params.push_back(*filter.action_id);
  }
  if (filter.status) {
    where.push_back("status = ?");
    params.push_back(std::string(core::Name(*filter.status)));
  }
  if (filter.since) {
    where.push_back("queued_at >= ?");
    params.push_back(sqlite::TimeToDb(*filter.since));
  }
  const std::string where_sql =
      where.empty() ? "" : absl::StrCat(" WHERE ", absl::StrJoin(where, " AND "));

  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(Transaction txn,
                        Transaction::Begin(db.get(), Transaction::Mode::kDeferred));
  core::Page<core::Run> page;
  {
    HERA_ASSIGN_OR_RETURN(ScopedStatement count,
                          db->Prepare(absl::StrCat("SELECT COUNT(*) FROM runs", where_sql)));
    BindParams(params, &*count);
    HERA_ASSIGN_OR_RETURN(page.total, SingleInt(*count));
  }
  {
    HERA_ASSIGN_OR_RETURN(
        ScopedStatement stmt,
        db->Prepare(absl::StrCat("SELECT ", sqlite::kRunColumns, " FROM runs", where_sql,
                                 " ORDER BY id DESC LIMIT ? OFFSET ?")));
    params.push_back(filter.limit);
    params.push_back(filter.offset);
    BindParams(params, &*stmt);
    HERA_RETURN_IF_ERROR(WithContext(CollectRows(*stmt, sqlite::ReadRun, &page.items), "list runs"));
  }
  HERA_RETURN_IF_ERROR(txn.Commit());
  return page;
}

absl::StatusOr<std::vector<core::Run>> SqliteStore::ListUnfinishedRuns() {
  static const std::string* const kSql =
      new std::string(absl::StrCat("SELECT ", sqlite::kRunColumns, " FROM runs WHERE status IN (",
                                   UnfinishedList(kRunStatuses), ") ORDER BY id"));
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(*kSql));
  std::vector<core::Run> runs;
  HERA_RETURN_IF_ERROR(
      WithContext(CollectRows(*stmt, sqlite::ReadRun, &runs), "list unfinished runs"));
  return runs;
}

absl::StatusOr<std::vector<core::RunId>> SqliteStore::ListRunsEndedBefore(absl::Time cutoff,
                                                                         int64_t limit) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? AND status NOT IN (",
      UnfinishedList(kRunStatuses), ") ORDER BY ended_at, id LIMIT ?"));
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(*kSql));
  stmt->BindInt(1, ToMicros(cutoff));
  stmt->BindInt(2, limit);
  std::vector<core::RunId> ids;
  for (;;) {
    HERA_ASSIGN_OR_RETURN(bool row, stmt->Step());
    if (!row) break;
    ids.push_back(stmt->ColumnInt(0));
  }
  return ids;
}

absl::Status SqliteStore::DeleteFinishedRuns(const std::vector<core::RunId>& ids) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "DELETE FROM runs WHERE id = ? AND status NOT IN (", UnfinishedList(kRunStatuses), ")"));
  MutexLock lock(&write_mu_);
  Db* db = writer_.get();
  HERA_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, Transaction::Mode::kImmediate));
  for (core::RunId id : ids) {
    HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare(*kSql));
    stmt->BindInt(1, id);
    HERA_RETURN_IF_ERROR(WithContext(stmt->Run(), absl::StrCat("delete run ", id)));
  }
  return WithContext(txn.Commit(), "delete runs");
}

absl::StatusOr<core::User> SqliteStore::GetUser(core::UserId id) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(
      ScopedStatement stmt,
      db->Prepare(absl::StrCat("SELECT ", sqlite::kUserColumns, " FROM users WHERE id = ?")));
  stmt->BindInt(1, id);
  return FirstRow<core::User>(
      *stmt, [](const Statement& s) -> absl::StatusOr<core::User> { return sqlite::ReadUser(s); },
      absl::StrCat("user ", id));
}

absl::StatusOr<core::User> SqliteStore::GetUserByName(std::string_view username) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        db->Prepare(absl::StrCat("SELECT ", sqlite::kUserColumns,
                                                 " FROM users WHERE username = ?")));
  stmt->BindText(1, username);
  return FirstRow<core::User>(
      *stmt, [](const Statement& s) -> absl::StatusOr<core::User> { return sqlite::ReadUser(s); },
      absl::StrCat("user \"", AsAbsl(username), "\""));
}

absl::StatusOr<int64_t> SqliteStore::CountUsers() {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt, db->Prepare("SELECT COUNT(*) FROM users"));
  return SingleInt(*stmt);
}

absl::StatusOr<core::ApiToken> SqliteStore::GetToken(std::string_view token_hash) {
  ReaderLease db = AcquireReader();
  HERA_ASSIGN_OR_RETURN(ScopedStatement stmt,
                        db->Prepare(absl::StrCat("SELECT ", sqlite::kTokenColumns,
                                                 " FROM api_tokens WHERE token_hash = ?")));
  stmt->BindText(1, token_hash);
  return FirstRow<core::ApiToken>(
      *stmt,
      [](const Statement& s) -> absl::StatusOr<core::ApiToken> { return sqlite::ReadToken(s); },
      "token");
}

}  // namespace hera::store
