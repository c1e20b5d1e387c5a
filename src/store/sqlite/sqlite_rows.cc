#include "store/sqlite/sqlite_rows.h"

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/json_text.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "core/json_codec.h"

namespace hera::store::sqlite {
namespace {

using nlohmann::json;

// A value read back that the model cannot hold means the file was damaged or written by
// something else: Internal, naming the column and the row.
absl::Status BadColumn(std::string_view column, int64_t id, std::string_view why) {
  return absl::InternalError(
      absl::StrCat(AsAbsl(column), " of row ", id, ": ", AsAbsl(why)));
}

// nlohmann::json::dump throws on invalid UTF-8; exceptions stop here (STYLE.md §2.3).
absl::StatusOr<std::string> Dump(const json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(what), ": ", e.what()));
  }
}

absl::StatusOr<json> Parse(const std::string& text, std::string_view column, int64_t id) {
  auto j = ParseJsonText(text);
  if (!j.ok()) return BadColumn(column, id, std::string(j.status().message()));
  return j;
}

std::optional<int64_t> OptionalTimeToDb(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return TimeToDb(*t);
}

std::optional<absl::Time> OptionalTimeFromDb(const std::optional<int64_t>& micros) {
  if (!micros) return std::nullopt;
  return TimeFromDb(*micros);
}

template <typename Enum>
absl::StatusOr<Enum> ParseEnum(std::optional<Enum> (*parse)(std::string_view),
                               const std::string& text, std::string_view column, int64_t id) {
  std::optional<Enum> v = parse(text);
  if (!v) return BadColumn(column, id, absl::StrCat("unknown value '", text, "'"));
  return *v;
}

}  // namespace

int64_t TimeToDb(absl::Time t) {
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  return ToMicros(t);
}

absl::Time TimeFromDb(int64_t micros) {
  if (micros == std::numeric_limits<int64_t>::max()) return absl::InfiniteFuture();
  if (micros == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  return FromMicros(micros);
}

// ---- groups ----

const char kGroupColumns[] =
    "id, parent_id, name, description, configs, owner, version, created_at, updated_at";
const char kUpsertGroup[] =
    "INSERT INTO groups (id, parent_id, name, description, configs, owner, version, created_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    " parent_id = excluded.parent_id, name = excluded.name,"
    " description = excluded.description, configs = excluded.configs, owner = excluded.owner,"
    " version = excluded.version, created_at = excluded.created_at,"
    " updated_at = excluded.updated_at";

absl::Status BindGroup(const core::Group& g, Statement* s) {
  HERA_ASSIGN_OR_RETURN(std::string configs, Dump(core::ConfigsToJson(g.configs), "configs"));
  s->BindInt(1, g.id);
  s->BindOptionalInt(2, g.parent_id);
  s->BindText(3, g.name);
  s->BindText(4, g.description);
  s->BindText(5, configs);
  s->BindText(6, g.owner);
  s->BindInt(7, g.version);
  s->BindInt(8, TimeToDb(g.created_at));
  s->BindInt(9, TimeToDb(g.updated_at));
  return absl::OkStatus();
}

absl::StatusOr<core::Group> ReadGroup(const Statement& s) {
  core::Group g;
  g.id = s.ColumnInt(0);
  g.parent_id = s.ColumnOptionalInt(1);
  g.name = s.ColumnText(2);
  g.description = s.ColumnText(3);
  HERA_ASSIGN_OR_RETURN(json configs, Parse(s.ColumnText(4), "groups.configs", g.id));
  absl::StatusOr<core::Configs> parsed = core::ConfigsFromJson(configs, "configs");
  if (!parsed.ok()) return BadColumn("groups.configs", g.id, AsStd(parsed.status().message()));
  g.configs = *std::move(parsed);
  g.owner = s.ColumnText(5);
  g.version = s.ColumnInt(6);
  g.created_at = TimeFromDb(s.ColumnInt(7));
  g.updated_at = TimeFromDb(s.ColumnInt(8));
  return g;
}

// ---- jobs ----

const char kJobColumns[] =
    "id, group_id, name, enabled, owner, version, created_at, updated_at, definition";
const char kUpsertJob[] =
    "INSERT INTO jobs (id, group_id, name, enabled, owner, version, created_at, updated_at,"
    " definition) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    " group_id = excluded.group_id, name = excluded.name, enabled = excluded.enabled,"
    " owner = excluded.owner, version = excluded.version, created_at = excluded.created_at,"
    " updated_at = excluded.updated_at, definition = excluded.definition";

absl::Status BindJob(const core::Job& job, Statement* s) {
  HERA_ASSIGN_OR_RETURN(std::string definition,
                        Dump(core::JobDefinitionToJson(job), "definition"));
  s->BindInt(1, job.id);
  s->BindInt(2, job.group_id);
  s->BindText(3, job.name);
  s->BindInt(4, job.enabled ? 1 : 0);
  s->BindText(5, job.owner);
  s->BindInt(6, job.version);
  s->BindInt(7, TimeToDb(job.created_at));
  s->BindInt(8, TimeToDb(job.updated_at));
  s->BindText(9, definition);
  return absl::OkStatus();
}

absl::StatusOr<core::Job> ReadJob(const Statement& s) {
  const int64_t id = s.ColumnInt(0);
  HERA_ASSIGN_OR_RETURN(json definition, Parse(s.ColumnText(8), "jobs.definition", id));
  if (!definition.is_object()) return BadColumn("jobs.definition", id, "not a JSON object");
  // The columns are the truth for what they hold (and the name check of ApplyJobJson is for
  // new input, not for rows already accepted).
  for (const char* key : {"name", "group_id", "enabled", "owner"}) definition.erase(key);
  core::Job job;
  if (absl::Status st = core::ApplyJobJson(definition, &job); !st.ok()) {
    return BadColumn("jobs.definition", id, AsStd(st.message()));
  }
  job.id = id;
  job.group_id = s.ColumnInt(1);
  job.name = s.ColumnText(2);
  job.enabled = s.ColumnInt(3) != 0;
  job.owner = s.ColumnText(4);
  job.version = s.ColumnInt(5);
  job.created_at = TimeFromDb(s.ColumnInt(6));
  job.updated_at = TimeFromDb(s.ColumnInt(7));
  return job;
}

// ---- job_revisions ----

const char kRevisionColumns[] = "job_id, version, author, saved_at, definition, changed_fields";
const char kUpsertRevision[] =
    "INSERT INTO job_revisions (job_id, version, author, saved_at, definition, changed_fields)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, version) DO UPDATE SET"
    " author = excluded.author, saved_at = excluded.saved_at,"
    " definition = excluded.definition, changed_fields = excluded.changed_fields";

absl::Status BindRevision(const core::JobRevision& rev, Statement* s) {
  HERA_ASSIGN_OR_RETURN(std::string changed, Dump(json(rev.changed_fields), "changed_fields"));
  s->BindInt(1, rev.job_id);
  s->BindInt(2, rev.version);
  s->BindText(3, rev.author);
  s->BindInt(4, TimeToDb(rev.saved_at));
  s->BindText(5, rev.definition_json);
  s->BindText(6, changed);
  return absl::OkStatus();
}

absl::StatusOr<core::JobRevision> ReadRevision(const Statement& s) {
  core::JobRevision rev;
  rev.job_id = s.ColumnInt(0);
  rev.version = s.ColumnInt(1);
  rev.author = s.ColumnText(2);
  rev.saved_at = TimeFromDb(s.ColumnInt(3));
  rev.definition_json = s.ColumnText(4);
  HERA_ASSIGN_OR_RETURN(json changed,
                        Parse(s.ColumnText(5), "job_revisions.changed_fields", rev.job_id));
  if (!changed.is_array()) {
    return BadColumn("job_revisions.changed_fields", rev.job_id, "not a JSON array");
  }
  for (const json& field : changed) {
    if (!field.is_string()) {
      return BadColumn("job_revisions.changed_fields", rev.job_id, "not an array of strings");
    }
    rev.changed_fields.push_back(field.get<std::string>());
  }
  return rev;
}

// ---- actions ----

const char kActionColumns[] =
    "id, job_id, scheduled_time, status, job_version, upstream, reason, created_at, updated_at,"
    " manual";
// An action's job and time, and a run's job, action and queue time, are fixed once written
// (core/store.h): leaving them out of DO UPDATE keeps SQLite from rewriting the indexes on
// them at every status change, which was most of the pages a run's commits wrote.
const char kUpsertAction[] =
    "INSERT INTO actions (id, job_id, scheduled_time, status, job_version, upstream, reason,"
    " created_at, updated_at, manual) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET manual = excluded.manual,"
    " status = excluded.status, job_version = excluded.job_version,"
    " upstream = excluded.upstream, reason = excluded.reason,"
    " created_at = excluded.created_at, updated_at = excluded.updated_at";

absl::Status BindAction(const core::Action& a, Statement* s) {
  HERA_ASSIGN_OR_RETURN(std::string upstream, Dump(json(a.upstream), "upstream"));
  s->BindInt(1, a.id);
  s->BindInt(2, a.job_id);
  s->BindInt(3, TimeToDb(a.scheduled_time));
  s->BindText(4, core::Name(a.status));
  s->BindInt(5, a.job_version);
  s->BindText(6, upstream);
  s->BindText(7, a.reason);
  s->BindInt(8, TimeToDb(a.created_at));
  s->BindInt(9, TimeToDb(a.updated_at));
  s->BindInt(10, a.manual ? 1 : 0);
  return absl::OkStatus();
}

namespace {

// "[1,2,3]" as written by BindAction, without a JSON parser: start-up reads millions of these.
// nullopt for anything else, which then goes through the JSON parser.
std::optional<std::vector<core::ActionId>> ParseIdList(std::string_view text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::vector<core::ActionId> ids;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    core::ActionId id = 0;
    if (item.empty() || item.size() > 18) return std::nullopt;
    for (char ch : item) {
      if (ch < '0' || ch > '9') return std::nullopt;
      id = id * 10 + (ch - '0');
    }
    ids.push_back(id);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
    if (text.empty()) return std::nullopt;  // a trailing comma
  }
  return ids;
}

}  // namespace

absl::StatusOr<core::Action> ReadAction(const Statement& s) {
  core::Action a;
  a.id = s.ColumnInt(0);
  a.job_id = s.ColumnInt(1);
  a.scheduled_time = TimeFromDb(s.ColumnInt(2));
  HERA_ASSIGN_OR_RETURN(a.status, ParseEnum(&core::ParseActionStatus, s.ColumnText(3),
                                            "actions.status", a.id));
  a.job_version = s.ColumnInt(4);
  const std::string upstream_text = s.ColumnText(5);
  if (auto ids = ParseIdList(upstream_text)) {
    a.upstream = *std::move(ids);
  } else {
    HERA_ASSIGN_OR_RETURN(json upstream, Parse(upstream_text, "actions.upstream", a.id));
    if (!upstream.is_array()) return BadColumn("actions.upstream", a.id, "not a JSON array");
    for (const json& id : upstream) {
      if (!id.is_number_integer()) {
        return BadColumn("actions.upstream", a.id, "not an array of integers");
      }
      a.upstream.push_back(id.get<core::ActionId>());
    }
  }
  a.reason = s.ColumnText(6);
  a.created_at = TimeFromDb(s.ColumnInt(7));
  a.updated_at = TimeFromDb(s.ColumnInt(8));
  a.manual = s.ColumnInt(9) != 0;
  return a;
}

// ---- runs ----

const char kRunColumns[] =
    "id, job_id, action_id, trigger, status, attempt, job_version, worker, created_by,"
    " queued_at, started_at, ended_at, exit_code, signal, message";
const char kUpsertRun[] =
    "INSERT INTO runs (id, job_id, action_id, trigger, status, attempt, job_version, worker,"
    " created_by, queued_at, started_at, ended_at, exit_code, signal, message)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    " trigger = excluded.trigger, status = excluded.status, attempt = excluded.attempt,"
    " job_version = excluded.job_version, worker = excluded.worker,"
    " created_by = excluded.created_by, started_at = excluded.started_at,"
    " ended_at = excluded.ended_at, exit_code = excluded.exit_code, signal = excluded.signal,"
    " message = excluded.message";

void BindRun(const core::Run& r, Statement* s) {
  s->BindInt(1, r.id);
  s->BindInt(2, r.job_id);
  s->BindInt(3, r.action_id);
  s->BindText(4, core::Name(r.trigger));
  s->BindText(5, core::Name(r.status));
  s->BindInt(6, r.attempt);
  s->BindInt(7, r.job_version);
  s->BindText(8, r.worker);
  s->BindText(9, r.created_by);
  s->BindInt(10, TimeToDb(r.queued_at));
  s->BindOptionalInt(11, OptionalTimeToDb(r.started_at));
  s->BindOptionalInt(12, OptionalTimeToDb(r.ended_at));
  s->BindOptionalInt(13, r.exit_code);
  s->BindOptionalInt(14, r.signal);
  s->BindText(15, r.message);
}

absl::StatusOr<core::Run> ReadRun(const Statement& s) {
  core::Run r;
  r.id = s.ColumnInt(0);
  r.job_id = s.ColumnInt(1);
  r.action_id = s.ColumnInt(2);
  HERA_ASSIGN_OR_RETURN(r.trigger,
                        ParseEnum(&core::ParseTrigger, s.ColumnText(3), "runs.trigger", r.id));
  HERA_ASSIGN_OR_RETURN(r.status,
                        ParseEnum(&core::ParseRunStatus, s.ColumnText(4), "runs.status", r.id));
  r.attempt = static_cast<int>(s.ColumnInt(5));
  r.job_version = s.ColumnInt(6);
  r.worker = s.ColumnText(7);
  r.created_by = s.ColumnText(8);
  r.queued_at = TimeFromDb(s.ColumnInt(9));
  r.started_at = OptionalTimeFromDb(s.ColumnOptionalInt(10));
  r.ended_at = OptionalTimeFromDb(s.ColumnOptionalInt(11));
  if (auto code = s.ColumnOptionalInt(12)) r.exit_code = static_cast<int>(*code);
  if (auto sig = s.ColumnOptionalInt(13)) r.signal = static_cast<int>(*sig);
  r.message = s.ColumnText(14);
  return r;
}

// ---- users and tokens ----

const char kUserColumns[] = "id, username, password_hash, is_admin, created_at";
const char kInsertUser[] =
    "INSERT INTO users (id, username, password_hash, is_admin, created_at)"
    " VALUES (?, ?, ?, ?, ?)";

void BindUser(const core::User& u, Statement* s) {
  s->BindInt(1, u.id);
  s->BindText(2, u.username);
  s->BindText(3, u.password_hash);
  s->BindInt(4, u.is_admin ? 1 : 0);
  s->BindInt(5, TimeToDb(u.created_at));
}

core::User ReadUser(const Statement& s) {
  core::User u;
  u.id = s.ColumnInt(0);
  u.username = s.ColumnText(1);
  u.password_hash = s.ColumnText(2);
  u.is_admin = s.ColumnInt(3) != 0;
  u.created_at = TimeFromDb(s.ColumnInt(4));
  return u;
}

const char kTokenColumns[] = "token_hash, user_id, kind, created_at, expires_at";
const char kUpsertToken[] =
    "INSERT INTO api_tokens (token_hash, user_id, kind, created_at, expires_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO UPDATE SET"
    " user_id = excluded.user_id, kind = excluded.kind, created_at = excluded.created_at,"
    " expires_at = excluded.expires_at";

void BindToken(const core::ApiToken& t, Statement* s) {
  s->BindText(1, t.token_hash);
  s->BindInt(2, t.user_id);
  s->BindText(3, t.kind);
  s->BindInt(4, TimeToDb(t.created_at));
  s->BindInt(5, TimeToDb(t.expires_at));
}

core::ApiToken ReadToken(const Statement& s) {
  core::ApiToken t;
  t.token_hash = s.ColumnText(0);
  t.user_id = s.ColumnInt(1);
  t.kind = s.ColumnText(2);
  t.created_at = TimeFromDb(s.ColumnInt(3));
  t.expires_at = TimeFromDb(s.ColumnInt(4));
  return t;
}

}  // namespace hera::store::sqlite
