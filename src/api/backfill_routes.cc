#include "api/backfill_routes.h"

#include "absl/strings/str_cat.h"
#include "api/request_util.h"
#include "core/json_codec.h"

namespace hera::api {
namespace {

using nlohmann::json;

absl::StatusOr<bool> BoolField(const json& body, const char* name) {
  if (!body.contains(name)) return false;
  if (!body[name].is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat("field '", name, "': must be true or false"));
  }
  return body[name].get<bool>();
}

absl::StatusOr<std::vector<core::JobId>> JobIds(const json& body) {
  if (!body.contains("job_ids") || !body["job_ids"].is_array() || body["job_ids"].empty()) {
    return absl::InvalidArgumentError("field 'job_ids': a list of at least one job id");
  }
  std::vector<core::JobId> ids;
  for (const json& id : body["job_ids"]) {
    if (!id.is_number_integer() || id.get<int64_t>() < 1) {
      return absl::InvalidArgumentError("field 'job_ids': each must be a positive job id");
    }
    ids.push_back(id.get<int64_t>());
  }
  return ids;
}

// The backfill as the store has it now (the engine's answer may lack nodes it wrote).
HttpResponse Answer(const ApiContext& c, int status, const core::Backfill& b) {
  if (b.id == 0) return JsonResponse(status, core::BackfillToJson(b, c.tz, true));
  HERA_TRY(core::Backfill stored, c.store->GetBackfill(b.id));
  return JsonResponse(status, core::BackfillToJson(stored, c.tz, false));
}

}  // namespace

void AddBackfillRoutes(Router& r, const ApiContext& c) {
  r.Add("POST", "/api/v1/backfills", Authenticated(c.auth, [c](HttpRequest& req,
                                                               const core::User& u) {
    HERA_TRY(json body, JsonBody(req));
    if (auto st = OnlyFields(body, {"job_ids", "from", "to", "downstream", "parallelism", "order",
                                    "skip_succeeded", "dry_run"});
        !st.ok()) {
      return ErrorResponse(st);
    }
    core::BackfillRequest request;
    HERA_TRY(request.job_ids, JobIds(body));
    HERA_TRY(request.from, TimeField(body, "from", c.tz));
    HERA_TRY(request.to, TimeField(body, "to", c.tz));
    HERA_TRY(request.downstream, BoolField(body, "downstream"));
    core::BackfillOptions options;
    HERA_TRY(options.parallelism, Parallelism(body, 1));
    HERA_TRY(options.skip_succeeded, BoolField(body, "skip_succeeded"));
    HERA_TRY(options.dry_run, BoolField(body, "dry_run"));
    if (body.contains("order")) {
      const json& order = body["order"];
      if (!order.is_string() || (order != "oldest_first" && order != "newest_first")) {
        return ErrorResponse(absl::InvalidArgumentError(
            "field 'order': oldest_first or newest_first"));
      }
      options.newest_first = order == "newest_first";
    }
    HERA_TRY(core::Backfill b, c.engine->CreateBackfill(request, options, u.username));
    return Answer(c, options.dry_run ? 200 : 201, b);
  }));
  r.Add("GET", "/api/v1/backfills", Authenticated(c.auth, [c](HttpRequest& req,
                                                              const core::User&) {
    HERA_TRY(int64_t limit, QueryInt(req, "limit", 50, 1, 1000));
    HERA_TRY(auto list, c.store->ListBackfills(limit));
    json items = json::array();
    for (const auto& b : list) items.push_back(core::BackfillToJson(b, c.tz, false));
    return JsonResponse(200, {{"items", items}, {"total", list.size()}});
  }));
  r.Add("GET", "/api/v1/backfills/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                   const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Backfill b, c.store->GetBackfill(id));
    return JsonResponse(200, core::BackfillToJson(b, c.tz, true));
  }));
  r.Add("POST", "/api/v1/backfills/{id}/stop", Authenticated(c.auth, [c](HttpRequest& req,
                                                                         const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Backfill existing, c.store->GetBackfill(id));
    HERA_TRY(core::Backfill b, c.engine->StopBackfill(existing.id, u.username));
    return Answer(c, 200, b);
  }));
  for (const bool retry : {false, true}) {
    const char* path =
        retry ? "/api/v1/backfills/{id}/rerun-failed" : "/api/v1/backfills/{id}/resume";
    r.Add("POST", path, Authenticated(c.auth, [c, retry](HttpRequest& req, const core::User& u) {
      HERA_TRY(int64_t id, PathId(req));
      HERA_TRY(core::Backfill b, c.engine->ResumeBackfill(id, retry, u.username));
      return Answer(c, 200, b);
    }));
  }
}

}  // namespace hera::api
