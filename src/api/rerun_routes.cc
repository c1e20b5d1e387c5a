#include "api/rerun_routes.h"

#include "absl/strings/str_cat.h"
#include "api/request_util.h"
#include "common/time_format.h"
#include "core/json_codec.h"

namespace hera::api {
namespace {

using nlohmann::json;

}  // namespace

void AddRerunRoutes(Router& r, const ApiContext& c) {
  r.Add("POST", "/api/v1/jobs/{id}/reruns", Authenticated(c.auth, [c](HttpRequest& req,
                                                                      const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(json body, JsonBody(req));
    if (auto st = OnlyFields(body, {"from", "to", "parallelism", "queue"}); !st.ok()) {
      return ErrorResponse(st);
    }
    if (body.contains("queue") && !body["queue"].is_boolean()) {
      return ErrorResponse(absl::InvalidArgumentError("field 'queue': must be true or false"));
    }
    const bool queue = body.value("queue", false);
    HERA_TRY(absl::Time from, TimeField(body, "from", c.tz));
    HERA_TRY(absl::Time to, TimeField(body, "to", c.tz));
    HERA_TRY(int parallelism, Parallelism(body, 1));
    HERA_TRY(core::RerunBatch b,
             c.engine->CreateRerun(id, from, to, parallelism, queue, u.username));
    return JsonResponse(201, core::RerunToJson(b, c.tz, false));
  }));
  r.Add("GET", "/api/v1/jobs/{id}/reruns", Authenticated(c.auth, [c](HttpRequest& req,
                                                                     const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Job job, c.store->GetJob(id));
    HERA_TRY(auto batches, c.store->ListReruns(job.id));
    json items = json::array();
    for (const auto& b : batches) items.push_back(core::RerunToJson(b, c.tz, false));
    return JsonResponse(200, {{"items", items}, {"total", batches.size()}});
  }));
  r.Add("GET", "/api/v1/reruns/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::RerunBatch b, c.store->GetRerun(id));
    return JsonResponse(200, core::RerunToJson(b, c.tz, true));
  }));
  r.Add("POST", "/api/v1/reruns/{id}/stop", Authenticated(c.auth, [c](HttpRequest& req,
                                                                      const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::RerunBatch existing, c.store->GetRerun(id));
    HERA_TRY(core::RerunBatch b, c.engine->StopRerun(existing.id, u.username));
    return JsonResponse(200, core::RerunToJson(b, c.tz, false));
  }));
  r.Add("POST", "/api/v1/reruns/{id}/rerun-failed", Authenticated(c.auth, [c](HttpRequest& req,
                                                                              const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(json body, JsonBody(req, /*empty_ok=*/true));
    if (auto st = OnlyFields(body, {"parallelism"}); !st.ok()) return ErrorResponse(st);
    HERA_TRY(int parallelism, Parallelism(body, 0));
    HERA_TRY(core::RerunBatch b, c.engine->RerunFailed(id, parallelism, u.username));
    return JsonResponse(201, core::RerunToJson(b, c.tz, false));
  }));
}

}  // namespace hera::api
