#include "api/request_util.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json_text.h"
#include "common/time_format.h"

namespace hera::api {

absl::StatusOr<int64_t> PathId(const HttpRequest& req, const std::string& name) {
  auto it = req.params.find(name);
  int64_t id = 0;
  if (it == req.params.end() || !absl::SimpleAtoi(it->second, &id) || id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", it == req.params.end() ? "" : it->second, "' is not a valid id"));
  }
  return id;
}

absl::StatusOr<int64_t> QueryInt(const HttpRequest& req, const std::string& name,
                                 int64_t fallback, int64_t lo, int64_t hi) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return fallback;
  int64_t v = 0;
  if (!absl::SimpleAtoi(it->second, &v) || v < lo || v > hi) {
    return absl::InvalidArgumentError(absl::StrCat("query parameter '", name, "': '", it->second,
                                                   "' is not an integer in ", lo, "-", hi));
  }
  return v;
}

absl::StatusOr<std::pair<int64_t, int64_t>> Paging(const HttpRequest& req) {
  auto limit = QueryInt(req, "limit", 100, 1, 10000);
  if (!limit.ok()) return limit.status();
  auto offset = QueryInt(req, "offset", 0, 0, INT64_MAX);
  if (!offset.ok()) return offset.status();
  return std::make_pair(*limit, *offset);
}

absl::StatusOr<nlohmann::json> JsonBody(const HttpRequest& req, bool empty_ok) {
  if (req.body.empty() && empty_ok) return nlohmann::json::object();
  if (req.body.empty()) return absl::InvalidArgumentError("the request body is empty; send JSON");
  auto doc = ParseJsonText(req.body);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the request body is ", doc.status().message()));
  }
  return doc;
}

absl::StatusOr<absl::Time> ParseIsoTimeParam(const std::string& name, const std::string& text,
                                             const absl::TimeZone& tz) {
  auto t = ParseIsoTime(text, tz);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("query parameter '", name, "': ", t.status().message()));
  }
  return t;
}

HttpHandler Authenticated(Auth* auth, UserHandler handler) {
  return [auth, handler = std::move(handler)](HttpRequest& req) {
    const std::string header = req.Header("authorization");
    std::string token;
    if (absl::StartsWithIgnoreCase(header, "bearer ")) token = header.substr(7);
    auto user = auth->Authenticate(token);
    if (!user.ok()) return ErrorResponse(user.status());
    return handler(req, *user);
  };
}

core::JobZone StoredJobZone(core::Store* store, const core::Job& job) {
  std::map<core::JobId, core::Job> fetched;  // node-based: the pointers handed out stay valid
  return core::ZoneOfJob(job, [&](core::JobId id) -> const core::Job* {
    if (auto it = fetched.find(id); it != fetched.end()) return &it->second;
    absl::StatusOr<core::Job> up = store->GetJob(id);
    return up.ok() ? &fetched.emplace(id, *std::move(up)).first->second : nullptr;
  });
}

nlohmann::json JobZoneJson(const core::JobZone& zone, const absl::TimeZone& tz) {
  nlohmann::json j = {{"name", zone.name.empty() ? tz.name() : zone.name},
                      {"reason", zone.reason}};
  j["inherited_from"] = zone.inherited_from ? nlohmann::json(zone.inherited_from) : nullptr;
  return j;
}

// The time in field `name` of `body`: required, ISO-8601 (Hera threw SQL errors on a missing
// end date, issue #82).
absl::StatusOr<absl::Time> TimeField(const nlohmann::json& body, const char* name,
                                     const absl::TimeZone& tz) {
  if (!body.contains(name)) {
    return absl::InvalidArgumentError(absl::StrCat("field '", name, "': is required"));
  }
  if (!body[name].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", name, "': must be an ISO-8601 time string"));
  }
  auto t = ParseIsoTime(body[name].get<std::string>(), tz);
  if (!t.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("field '", name, "': ", t.status().message()));
  }
  return t;
}

absl::StatusOr<int> Parallelism(const nlohmann::json& body, int fallback) {
  if (!body.contains("parallelism")) return fallback;
  const nlohmann::json& p = body["parallelism"];
  if (!p.is_number_integer() || p.get<int64_t>() < 1 || p.get<int64_t>() > 32) {
    return absl::InvalidArgumentError("field 'parallelism': must be an integer in 1-32");
  }
  return static_cast<int>(p.get<int64_t>());
}

absl::Status OnlyFields(const nlohmann::json& body, std::initializer_list<const char*> allowed) {
  if (!body.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    bool ok = false;
    for (const char* a : allowed) ok |= key == a;
    if (!ok) return absl::InvalidArgumentError(absl::StrCat("field '", key, "': unknown field"));
  }
  return absl::OkStatus();
}

}  // namespace hera::api
