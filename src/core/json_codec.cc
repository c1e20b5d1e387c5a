#include "core/json_codec.h"

#include <map>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "common/time_format.h"
#include "common/zone_name.h"

namespace hera::core {
namespace {

using nlohmann::json;

// Limits of a definition (docs/api.md, "Limits"): generous for people, small enough that no
// request can make one job or group weigh on every list, plan and revision.
constexpr size_t kMaxScriptBytes = 1 << 20;  // 1 MiB
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxDescriptionBytes = 64 << 10;
constexpr size_t kMaxConfigKeys = 1000;
constexpr size_t kMaxConfigKeyBytes = 200;
constexpr size_t kMaxConfigValueBytes = 64 << 10;
constexpr size_t kMaxDependencies = 1000;

absl::Status FieldError(std::string_view field, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("field '", AsAbsl(field), "': ", AsAbsl(why)));
}

const char* TypeName(const json& j) { return j.type_name(); }

absl::StatusOr<std::string> GetString(const json& j, std::string_view field) {
  if (!j.is_string()) {
    return FieldError(field, absl::StrCat("must be a string, not ", TypeName(j)));
  }
  return j.get<std::string>();
}

absl::StatusOr<int64_t> GetInt(const json& j, std::string_view field, int64_t lo, int64_t hi) {
  if (!j.is_number_integer()) {
    return FieldError(field, absl::StrCat("must be an integer, not ", TypeName(j)));
  }
  const int64_t v = j.get<int64_t>();
  if (v < lo || v > hi) {
    return FieldError(field, absl::StrCat(v, " is outside ", lo, "-", hi));
  }
  return v;
}

absl::StatusOr<bool> GetBool(const json& j, std::string_view field) {
  if (!j.is_boolean()) {
    return FieldError(field, absl::StrCat("must be true or false, not ", TypeName(j)));
  }
  return j.get<bool>();
}

absl::Status CheckObject(const json& j, std::string_view field) {
  if (!j.is_object()) {
    return FieldError(field, absl::StrCat("must be an object, not ", TypeName(j)));
  }
  return absl::OkStatus();
}

absl::Status CheckLength(const std::string& text, size_t limit, std::string_view field) {
  if (text.size() <= limit) return absl::OkStatus();
  return FieldError(field, absl::StrCat("is ", text.size(), " bytes; the limit is ", limit));
}

}  // namespace

absl::Status CheckName(std::string_view name, std::string_view field) {
  if (name.empty()) return FieldError(field, "must not be empty");
  if (name.size() > kMaxNameBytes) {
    return FieldError(field, absl::StrCat("is longer than ", kMaxNameBytes, " bytes"));
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return FieldError(field, "must not contain control characters");
  }
  if (absl::StripAsciiWhitespace(AsAbsl(name)).empty()) {
    return FieldError(field, "must not be only spaces");
  }
  return absl::OkStatus();
}

absl::Status CheckDescription(const std::string& text, std::string_view field) {
  return CheckLength(text, kMaxDescriptionBytes, field);
}

absl::Status CheckOwner(const std::string& owner, std::string_view field) {
  return CheckLength(owner, kMaxNameBytes, field);
}

namespace {

absl::Status ApplySchedule(const json& j, Schedule* s) {
  if (auto st = CheckObject(j, "schedule"); !st.ok()) return st;
  for (const auto& [key, value] : j.items()) {
    if (key == "cron") {
      auto v = GetString(value, "schedule.cron");
      if (!v.ok()) return v.status();
      s->cron = *v;
    } else if (key == "timezone") {
      auto v = GetString(value, "schedule.timezone");
      if (!v.ok()) return v.status();
      absl::TimeZone tz;
      if (!v->empty() && !LoadIanaZone(*v, &tz)) {
        return FieldError("schedule.timezone",
                          absl::StrCat("unknown time zone '", *v,
                                       "' (an IANA name such as Asia/Shanghai or UTC)"));
      }
      s->timezone = *v;
    } else if (key == "self_dependency") {
      auto v = GetBool(value, "schedule.self_dependency");
      if (!v.ok()) return v.status();
      s->self_dependency = *v;
    } else if (key == "depends_on") {
      if (!value.is_array()) return FieldError("schedule.depends_on", "must be an array");
      if (value.size() > kMaxDependencies) {
        return FieldError("schedule.depends_on",
                          absl::StrCat("names ", value.size(), " jobs; the limit is ",
                                       kMaxDependencies));
      }
      std::vector<Dependency> deps;
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string field = absl::StrCat("schedule.depends_on[", i, "]");
        if (auto st = CheckObject(value[i], field); !st.ok()) return st;
        Dependency d;
        bool has_job = false;
        for (const auto& [dk, dv] : value[i].items()) {
          if (dk == "job_id") {
            auto id = GetInt(dv, field + ".job_id", 1, INT64_MAX);
            if (!id.ok()) return id.status();
            d.job_id = *id;
            has_job = true;
          } else if (dk == "period") {
            auto p = GetString(dv, field + ".period");
            if (!p.ok()) return p.status();
            auto period = ParseDependencyPeriod(*p);
            if (!period) {
              return FieldError(field + ".period",
                                absl::StrCat("unknown period '", *p,
                                             "' (nearest, all_of_day, latest_before, "
                                             "previous_day)"));
            }
            d.period = *period;
          } else {
            return FieldError(absl::StrCat(field, ".", dk), "unknown field");
          }
        }
        if (!has_job) return FieldError(field + ".job_id", "is required");
        for (size_t k = 0; k < deps.size(); ++k) {
          if (deps[k].job_id == d.job_id) {
            return FieldError(field + ".job_id",
                              absl::StrCat("job ", d.job_id, " is already named at [", k, "]"));
          }
        }
        deps.push_back(d);
      }
      s->depends_on = std::move(deps);
    } else {
      return FieldError(absl::StrCat("schedule.", key), "unknown field");
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyRetry(const json& j, RetryPolicy* r) {
  if (auto st = CheckObject(j, "retry"); !st.ok()) return st;
  for (const auto& [key, value] : j.items()) {
    if (key == "count") {
      auto v = GetInt(value, "retry.count", 0, 10);
      if (!v.ok()) return v.status();
      r->count = static_cast<int>(*v);
    } else if (key == "interval_s") {
      auto v = GetInt(value, "retry.interval_s", 0, 86400);
      if (!v.ok()) return v.status();
      r->interval_s = static_cast<int>(*v);
    } else {
      return FieldError(absl::StrCat("retry.", key), "unknown field");
    }
  }
  return absl::OkStatus();
}

json OptionalTime(const std::optional<absl::Time>& t, const absl::TimeZone& tz) {
  return t ? json(FormatIsoTime(*t, tz)) : json(nullptr);
}

}  // namespace

json ConfigsToJson(const Configs& configs) {
  json j = json::object();
  for (const auto& [k, v] : configs) j[k] = v;
  return j;
}

absl::StatusOr<Configs> ConfigsFromJson(const json& j, std::string_view field) {
  if (auto st = CheckObject(j, field); !st.ok()) return st;
  if (j.size() > kMaxConfigKeys) {
    return FieldError(field, absl::StrCat("has ", j.size(), " keys; the limit is ",
                                          kMaxConfigKeys));
  }
  Configs configs;
  for (const auto& [key, value] : j.items()) {
    if (key.empty()) return FieldError(field, "keys must not be empty");
    if (key.size() > kMaxConfigKeyBytes) {
      return FieldError(field, absl::StrCat("a key of ", key.size(), " bytes; the limit is ",
                                            kMaxConfigKeyBytes));
    }
    for (unsigned char c : key) {
      // ${key} names it in scripts: whitespace, control bytes (NUL among them) and the
      // macro's own braces could never be referenced.
      if (c <= 0x20 || c == 0x7f || c == '{' || c == '}' || c == '$') {
        return FieldError(field, absl::StrCat("key '", absl::CEscape(key),
                                              "' has a space, a control character, '$', '{' "
                                              "or '}'"));
      }
    }
    const std::string f = absl::StrCat(AsAbsl(field), ".", key);
    if (!value.is_string()) {
      return FieldError(f, absl::StrCat("must be a string, not ", TypeName(value)));
    }
    if (auto st = CheckLength(value.get_ref<const std::string&>(), kMaxConfigValueBytes, f);
        !st.ok()) {
      return st;
    }
    configs[key] = value.get<std::string>();
  }
  return configs;
}

json JobDefinitionToJson(const Job& job) {
  json deps = json::array();
  for (const auto& d : job.schedule.depends_on) {
    deps.push_back({{"job_id", d.job_id}, {"period", Name(d.period)}});
  }
  return json{
      {"name", job.name},
      {"group_id", job.group_id},
      {"description", job.description},
      {"type", Name(job.type)},
      {"script", job.script},
      {"schedule",
       {{"cron", job.schedule.cron},
        {"timezone", job.schedule.timezone},
        {"depends_on", deps},
        {"self_dependency", job.schedule.self_dependency}}},
      {"enabled", job.enabled},
      {"retry", {{"count", job.retry.count}, {"interval_s", job.retry.interval_s}}},
      {"timeout_s", job.timeout_s},
      {"host_group", job.host_group},
      {"configs", ConfigsToJson(job.configs)},
      {"priority", Name(job.priority)},
      {"allow_concurrent", job.allow_concurrent},
      {"missed_policy", Name(job.missed)},
      {"owner", job.owner},
  };
}

json JobToJson(const Job& job, const absl::TimeZone& tz) {
  json j = JobDefinitionToJson(job);
  j["id"] = job.id;
  j["version"] = job.version;
  j["created_at"] = FormatIsoTime(job.created_at, tz);
  j["updated_at"] = FormatIsoTime(job.updated_at, tz);
  return j;
}

absl::Status ApplyJobJson(const json& body, Job* job) {
  if (!body.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request body must be a JSON object, not ", TypeName(body)));
  }
  for (const auto& [key, value] : body.items()) {
    if (key == "name") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      if (auto st = CheckName(*v, key); !st.ok()) return st;
      job->name = *v;
    } else if (key == "group_id") {
      auto v = GetInt(value, key, 1, INT64_MAX);
      if (!v.ok()) return v.status();
      job->group_id = *v;
    } else if (key == "description") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      if (auto st = CheckDescription(*v, key); !st.ok()) return st;
      job->description = *v;
    } else if (key == "type") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      auto type = ParseJobType(*v);
      if (!type) {
        return FieldError(key, absl::StrCat("unknown job type '", *v,
                                            "' (shell, python, hive, spark_sql, java)"));
      }
      job->type = *type;
    } else if (key == "script") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      if (v->size() > kMaxScriptBytes) {
        return FieldError(key, absl::StrCat("is ", v->size(), " bytes; the limit is 1 MiB"));
      }
      job->script = *v;
    } else if (key == "schedule") {
      if (auto st = ApplySchedule(value, &job->schedule); !st.ok()) return st;
    } else if (key == "enabled") {
      auto v = GetBool(value, key);
      if (!v.ok()) return v.status();
      job->enabled = *v;
    } else if (key == "retry") {
      if (auto st = ApplyRetry(value, &job->retry); !st.ok()) return st;
    } else if (key == "timeout_s") {
      auto v = GetInt(value, key, 0, 30LL * 86400);
      if (!v.ok()) return v.status();
      job->timeout_s = *v;
    } else if (key == "host_group") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      if (!v->empty()) {
        if (auto st = CheckName(*v, key); !st.ok()) return st;
      }
      job->host_group = *v;
    } else if (key == "configs") {
      auto v = ConfigsFromJson(value, key);
      if (!v.ok()) return v.status();
      job->configs = *std::move(v);
    } else if (key == "priority") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      auto p = ParsePriority(*v);
      if (!p) return FieldError(key, absl::StrCat("unknown priority '", *v, "' (low, medium, high)"));
      job->priority = *p;
    } else if (key == "allow_concurrent") {
      auto v = GetBool(value, key);
      if (!v.ok()) return v.status();
      job->allow_concurrent = *v;
    } else if (key == "missed_policy") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      auto p = ParseMissedPolicy(*v);
      if (!p) {
        return FieldError(key,
                          absl::StrCat("unknown policy '", *v, "' (run_all, run_latest, skip)"));
      }
      job->missed = *p;
    } else if (key == "owner") {
      auto v = GetString(value, key);
      if (!v.ok()) return v.status();
      if (auto st = CheckOwner(*v, key); !st.ok()) return st;
      job->owner = *v;
    } else {
      return FieldError(key, "unknown field");
    }
  }
  return absl::OkStatus();
}

json GroupToJson(const Group& group, const absl::TimeZone& tz) {
  return json{
      {"id", group.id},
      {"parent_id", group.parent_id ? json(*group.parent_id) : json(nullptr)},
      {"name", group.name},
      {"description", group.description},
      {"configs", ConfigsToJson(group.configs)},
      {"owner", group.owner},
      {"version", group.version},
      {"created_at", FormatIsoTime(group.created_at, tz)},
      {"updated_at", FormatIsoTime(group.updated_at, tz)},
  };
}

json ActionToJson(const Action& action, const absl::TimeZone& tz) {
  return json{
      {"id", action.id},
      {"job_id", action.job_id},
      {"scheduled_time", FormatIsoTime(action.scheduled_time, tz)},
      {"status", Name(action.status)},
      {"version", action.job_version},
      {"upstream", action.upstream},
      {"reason", action.reason},
  };
}

json RunToJson(const Run& run, const absl::TimeZone& tz) {
  return json{
      {"id", run.id},
      {"job_id", run.job_id},
      {"action_id", run.action_id},
      {"trigger", Name(run.trigger)},
      {"status", Name(run.status)},
      {"attempt", run.attempt},
      {"job_version", run.job_version},
      {"exit_code", run.exit_code ? json(*run.exit_code) : json(nullptr)},
      {"signal", run.signal ? json(*run.signal) : json(nullptr)},
      {"worker", run.worker},
      {"created_by", run.created_by},
      {"queued_at", FormatIsoTime(run.queued_at, tz)},
      {"started_at", OptionalTime(run.started_at, tz)},
      {"ended_at", OptionalTime(run.ended_at, tz)},
      {"message", run.message},
  };
}

json RevisionToJson(const JobRevision& rev, const absl::TimeZone& tz) {
  const json def = ParseJsonText(rev.definition_json).value_or(json(nullptr));
  return json{
      {"job_id", rev.job_id},
      {"version", rev.version},
      {"author", rev.author},
      {"saved_at", FormatIsoTime(rev.saved_at, tz)},
      {"changed_fields", rev.changed_fields},
      {"definition", def},
  };
}

json RerunToJson(const RerunBatch& b, const absl::TimeZone& tz, bool with_items) {
  int64_t started = static_cast<int64_t>(b.next);
  json j{{"id", b.id},
         {"job_id", b.job_id},
         {"from", FormatIsoTime(b.from, tz)},
         {"to", FormatIsoTime(b.to, tz)},
         {"parallelism", b.parallelism},
         {"status", Name(b.status)},
         {"total", b.items.size()},
         {"done", b.done},
         {"failed", b.failed},
         {"running", started - b.done - b.failed},
         {"retry_of", b.retry_of ? json(b.retry_of) : json(nullptr)},
         {"after", b.after ? json(b.after) : json(nullptr)},
         {"created_by", b.created_by},
         {"created_at", FormatIsoTime(b.created_at, tz)},
         {"updated_at", FormatIsoTime(b.updated_at, tz)}};
  if (with_items) {
    json items = json::array();
    for (const auto& item : b.items) {
      items.push_back({{"scheduled_time", FormatIsoTime(item.time, tz)},
                       {"action_id", item.action_id ? json(item.action_id) : json(nullptr)}});
    }
    j["items"] = std::move(items);
  }
  return j;
}

json RerunToDocument(const RerunBatch& b) {
  json items = json::array();
  for (const auto& item : b.items) items.push_back({ToMicros(item.time), item.action_id});
  return json{{"id", b.id},           {"job_id", b.job_id},
              {"from", ToMicros(b.from)}, {"to", ToMicros(b.to)},
              {"parallelism", b.parallelism}, {"status", Name(b.status)},
              {"items", items},       {"next", b.next},
              {"done", b.done},       {"failed", b.failed},
              {"retry_of", b.retry_of}, {"after", b.after}, {"created_by", b.created_by},
              {"created_at", ToMicros(b.created_at)}, {"updated_at", ToMicros(b.updated_at)}};
}

absl::StatusOr<RerunBatch> RerunFromDocument(const json& doc) {
  try {
    RerunBatch b;
    b.id = doc.at("id").get<int64_t>();
    b.job_id = doc.at("job_id").get<int64_t>();
    b.from = FromMicros(doc.at("from").get<int64_t>());
    b.to = FromMicros(doc.at("to").get<int64_t>());
    b.parallelism = doc.at("parallelism").get<int>();
    auto status = ParseRerunStatus(doc.at("status").get<std::string>());
    if (!status) return absl::InternalError("rerun document: unknown status");
    b.status = *status;
    for (const auto& item : doc.at("items")) {
      b.items.push_back({FromMicros(item.at(0).get<int64_t>()), item.at(1).get<int64_t>()});
    }
    b.next = doc.at("next").get<size_t>();
    b.done = doc.at("done").get<int64_t>();
    b.failed = doc.at("failed").get<int64_t>();
    b.retry_of = doc.at("retry_of").get<int64_t>();
    b.after = doc.value("after", int64_t{0});  // absent in batches stored before it existed
    b.created_by = doc.at("created_by").get<std::string>();
    b.created_at = FromMicros(doc.at("created_at").get<int64_t>());
    b.updated_at = FromMicros(doc.at("updated_at").get<int64_t>());
    return b;
  } catch (const json::exception& e) {
    return absl::InternalError(absl::StrCat("rerun document: ", e.what()));
  }
}

namespace {

// Counts of node states, as progress shows them ("waiting": pending, whatever it waits for).
struct NodeCounts {
  int64_t done = 0, failed = 0, running = 0, waiting = 0, skipped = 0, total = 0;
  void Add(NodeState s) {
    ++total;
    switch (s) {
      case NodeState::kSuccess: ++done; break;
      case NodeState::kFailed: ++failed; break;
      case NodeState::kRunning: ++running; break;
      case NodeState::kPending: ++waiting; break;
      case NodeState::kSkipped: ++skipped; break;
    }
  }
  json ToJson() const {
    return json{{"done", done},       {"failed", failed}, {"running", running},
                {"waiting", waiting}, {"skipped", skipped}, {"total", total}};
  }
};

}  // namespace

json BackfillToJson(const Backfill& b, const absl::TimeZone& tz, bool with_nodes) {
  NodeCounts all;
  std::map<std::string, NodeCounts> by_date;
  std::map<JobId, NodeCounts> by_job;
  for (const BackfillNode& n : b.nodes) {
    all.Add(n.state);
    by_date[absl::FormatCivilTime(absl::ToCivilDay(n.time, tz))].Add(n.state);
    by_job[n.job_id].Add(n.state);
  }
  json dates = json::array();
  for (const auto& [date, counts] : by_date) {
    json d = counts.ToJson();
    d["date"] = date;
    dates.push_back(std::move(d));
  }
  json jobs = json::array();
  for (const auto& [job, counts] : by_job) {
    json j = counts.ToJson();
    j["job_id"] = job;
    jobs.push_back(std::move(j));
  }
  json out = all.ToJson();
  out.update(json{{"id", b.id},
                  {"job_ids", b.job_ids},
                  {"from", FormatIsoTime(b.from, tz)},
                  {"to", FormatIsoTime(b.to, tz)},
                  {"downstream", b.downstream},
                  {"parallelism", b.parallelism},
                  {"order", b.newest_first ? "newest_first" : "oldest_first"},
                  {"skip_succeeded", b.skip_succeeded},
                  {"status", Name(b.status)},
                  {"by_date", dates},
                  {"by_job", jobs},
                  {"created_by", b.created_by},
                  {"created_at", FormatIsoTime(b.created_at, tz)},
                  {"updated_at", FormatIsoTime(b.updated_at, tz)}});
  if (b.id == 0) out["id"] = nullptr;  // a dry run
  if (with_nodes) {
    json nodes = json::array();
    for (const BackfillNode& n : b.nodes) {
      nodes.push_back({{"job_id", n.job_id},
                       {"scheduled_time", FormatIsoTime(n.time, tz)},
                       {"action_id", n.action_id ? json(n.action_id) : json(nullptr)},
                       {"state", Name(n.state)},
                       {"upstream", n.upstream}});
    }
    out["nodes"] = std::move(nodes);
  }
  return out;
}

json BackfillToDocument(const Backfill& b) {
  return json{{"id", b.id},
              {"job_ids", b.job_ids},
              {"from", ToMicros(b.from)},
              {"to", ToMicros(b.to)},
              {"downstream", b.downstream},
              {"parallelism", b.parallelism},
              {"newest_first", b.newest_first},
              {"skip_succeeded", b.skip_succeeded},
              {"status", Name(b.status)},
              {"created_by", b.created_by},
              {"created_at", ToMicros(b.created_at)},
              {"updated_at", ToMicros(b.updated_at)}};
}

absl::StatusOr<Backfill> BackfillFromDocument(const json& doc) {
  try {
    Backfill b;
    b.id = doc.at("id").get<int64_t>();
    b.job_ids = doc.at("job_ids").get<std::vector<JobId>>();
    b.from = FromMicros(doc.at("from").get<int64_t>());
    b.to = FromMicros(doc.at("to").get<int64_t>());
    b.downstream = doc.at("downstream").get<bool>();
    b.parallelism = doc.at("parallelism").get<int>();
    b.newest_first = doc.at("newest_first").get<bool>();
    b.skip_succeeded = doc.at("skip_succeeded").get<bool>();
    auto status = ParseBackfillStatus(doc.at("status").get<std::string>());
    if (!status) return absl::InternalError("backfill document: unknown status");
    b.status = *status;
    b.created_by = doc.at("created_by").get<std::string>();
    b.created_at = FromMicros(doc.at("created_at").get<int64_t>());
    b.updated_at = FromMicros(doc.at("updated_at").get<int64_t>());
    return b;
  } catch (const json::exception& e) {
    return absl::InternalError(absl::StrCat("backfill document: ", e.what()));
  }
}

}  // namespace hera::core
