#include "api/api_service.h"

#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/graph_routes.h"
#include "api/http_errors.h"
#include "api/request_util.h"
#include "api/render_routes.h"
#include "api/revision_routes.h"
#include "api/router.h"
#include "api/backfill_routes.h"
#include "api/rerun_routes.h"
#include "api/resource_routes.h"
#include "api/worker_routes.h"
#include "api/run_routes.h"
#include "api/secret_masking.h"
#include "core/json_codec.h"

namespace hera::api {
namespace {

using nlohmann::json;

// Takes the save option "force" out of a job body (it is not a field of the job).
absl::StatusOr<core::JobSaveOptions> TakeForce(json* body) {
  core::JobSaveOptions options;
  if (!body->is_object() || !body->contains("force")) return options;
  const json& force = (*body)["force"];
  if (!force.is_boolean()) {
    return absl::InvalidArgumentError("field 'force': must be true or false");
  }
  options.force_host_group = force.get<bool>();
  body->erase("force");
  return options;
}

// `job` with "warnings" when the save has any.
json WithWarnings(json job, const std::vector<std::string>& warnings) {
  if (!warnings.empty()) job["warnings"] = warnings;
  return job;
}

// True for a request that would write to the store when the disk is full. Logging in and out
// and cancelling a run stay possible: they write little, and a cancel may be what frees space.
bool ChangesState(const HttpRequest& req) {
  if (req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS") return false;
  if (absl::StartsWith(req.path, "/api/v1/auth/")) return false;
  return !(absl::StartsWith(req.path, "/api/v1/runs/") && absl::EndsWith(req.path, "/cancel"));
}

void AddAuthRoutes(Router& r, const ApiContext& c) {
  r.Add("POST", "/api/v1/auth/login", [c](HttpRequest& req) {
    HERA_TRY(json body, JsonBody(req));
    if (!body.is_object() || !body.contains("username") || !body["username"].is_string() ||
        !body.contains("password") || !body["password"].is_string()) {
      return ErrorResponse(absl::InvalidArgumentError(
          "send {\"username\": \"...\", \"password\": \"...\"} as strings"));
    }
    const std::string username = body["username"];
    absl::Duration retry_after = absl::ZeroDuration();
    auto token = c.auth->Login(username, body["password"], req.peer, &retry_after);
    if (!token.ok()) {
      HttpResponse refused = ErrorResponse(token.status());
      if (retry_after > absl::ZeroDuration()) {
        refused.headers.emplace_back("Retry-After",
                                     absl::StrCat(absl::ToInt64Seconds(retry_after)));
      }
      return refused;
    }
    HERA_TRY(core::User user, c.store->GetUserByName(username));
    return JsonResponse(200, {{"token", *token},
                              {"user", {{"id", user.id},
                                        {"username", user.username},
                                        {"is_admin", user.is_admin}}}});
  });
  r.Add("POST", "/api/v1/auth/logout", Authenticated(c.auth, [c](HttpRequest& req,
                                                                  const core::User&) {
    const std::string token = req.Header("authorization").substr(7);
    if (auto st = c.auth->Logout(token); !st.ok()) return ErrorResponse(st);
    return JsonResponse(200, {{"ok", true}});
  }));
  r.Add("GET", "/api/v1/auth/me", Authenticated(c.auth, [](HttpRequest&, const core::User& u) {
    return JsonResponse(200, {{"id", u.id}, {"username", u.username}, {"is_admin", u.is_admin}});
  }));
}

void AddGroupRoutes(Router& r, const ApiContext& c) {
  r.Add("GET", "/api/v1/groups", Authenticated(c.auth, [c](HttpRequest&, const core::User&) {
    HERA_TRY(auto groups, c.store->ListGroups());
    json items = json::array();
    for (const auto& g : groups) items.push_back(MaskedGroupJson(g, c.tz));
    return JsonResponse(200, {{"items", items}, {"total", groups.size()}});
  }));
  r.Add("POST", "/api/v1/groups", Authenticated(c.auth, [c](HttpRequest& req,
                                                            const core::User& u) {
    HERA_TRY(json body, JsonBody(req));
    HERA_TRY(core::Group g, c.engine->CreateGroup(body, u.username));
    return JsonResponse(201, MaskedGroupJson(g, c.tz));
  }));
  r.Add("GET", "/api/v1/groups/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Group g, c.store->GetGroup(id));
    return JsonResponse(200, MaskedGroupJson(g, c.tz));
  }));
  r.Add("PATCH", "/api/v1/groups/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                  const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(json body, JsonBody(req));
    HERA_TRY(core::Group g, c.engine->UpdateGroup(id, body, u.username));
    return JsonResponse(200, MaskedGroupJson(g, c.tz));
  }));
  r.Add("DELETE", "/api/v1/groups/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                   const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    if (auto st = c.engine->DeleteGroup(id, u.username); !st.ok()) return ErrorResponse(st);
    HttpResponse resp;
    resp.status = 204;
    return resp;
  }));
}

void AddJobRoutes(Router& r, const ApiContext& c) {
  r.Add("GET", "/api/v1/jobs", Authenticated(c.auth, [c](HttpRequest& req, const core::User&) {
    HERA_TRY(auto paging, Paging(req));
    core::JobFilter f;
    f.limit = paging.first;
    f.offset = paging.second;
    HERA_TRY(int64_t group, QueryInt(req, "group_id", 0, 1, INT64_MAX));
    if (group) f.group_id = group;
    if (auto q = req.query.find("q"); q != req.query.end()) f.q = q->second;
    HERA_TRY(auto page, c.store->ListJobs(f));
    json items = json::array();
    for (const auto& j : page.items) items.push_back(MaskedJobJson(j, c.tz));
    return JsonResponse(200, {{"items", items}, {"total", page.total}});
  }));
  r.Add("POST", "/api/v1/jobs", Authenticated(c.auth, [c](HttpRequest& req, const core::User& u) {
    HERA_TRY(json body, JsonBody(req));
    HERA_TRY(core::JobSaveOptions options, TakeForce(&body));
    std::vector<std::string> warnings;
    options.warnings = &warnings;
    HERA_TRY(core::Job j, c.engine->CreateJob(body, u.username, options));
    return JsonResponse(201, WithWarnings(MaskedJobJson(j, c.tz), warnings));
  }));
  r.Add("GET", "/api/v1/jobs/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                              const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Job j, c.store->GetJob(id));
    json out = MaskedJobJson(j, c.tz);
    out["effective_timezone"] = JobZoneJson(StoredJobZone(c.store, j), c.tz);
    return JsonResponse(200, out);
  }));
  r.Add("PATCH", "/api/v1/jobs/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(json body, JsonBody(req));
    HERA_TRY(core::JobSaveOptions options, TakeForce(&body));
    std::vector<std::string> warnings;
    options.warnings = &warnings;
    HERA_TRY(core::Job j, c.engine->UpdateJob(id, body, u.username, options));
    return JsonResponse(200, WithWarnings(MaskedJobJson(j, c.tz), warnings));
  }));
  r.Add("DELETE", "/api/v1/jobs/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                 const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    if (auto st = c.engine->DeleteJob(id, u.username); !st.ok()) return ErrorResponse(st);
    HttpResponse resp;
    resp.status = 204;
    return resp;
  }));
  r.Add("POST", "/api/v1/jobs/{id}/run", Authenticated(c.auth, [c](HttpRequest& req,
                                                                   const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(json body, JsonBody(req, /*empty_ok=*/true));
    core::Trigger trigger = core::Trigger::kManual;
    std::optional<core::ActionId> action_id;
    bool cascade = false;
    for (const auto& [key, value] : body.items()) {
      if (key == "cascade") {
        if (!value.is_boolean()) {
          return ErrorResponse(absl::InvalidArgumentError("field 'cascade': must be true or false"));
        }
        cascade = value.get<bool>();
        continue;
      }
      if (key == "action_id") {
        if (!value.is_number_integer() || value.get<int64_t>() <= 0) {
          return ErrorResponse(absl::InvalidArgumentError("field 'action_id': must be an id"));
        }
        action_id = value.get<int64_t>();
        continue;
      }
      if (key != "trigger") {
        return ErrorResponse(absl::InvalidArgumentError(
            absl::StrCat("field '", key, "': unknown field")));
      }
      const auto t = value.is_string() ? core::ParseTrigger(value.get<std::string>())
                                       : std::nullopt;
      if (!t || (*t != core::Trigger::kManual && *t != core::Trigger::kApi &&
                 *t != core::Trigger::kRecovery && *t != core::Trigger::kSuperRecovery)) {
        return ErrorResponse(absl::InvalidArgumentError(absl::StrCat(
            "field 'trigger': ", value.dump(),
            " is not a trigger this endpoint accepts (manual, api, recovery, super_recovery)")));
      }
      trigger = *t;
    }
    if (cascade) {
      // An API call that cascades runs as a recovery (SEMANTICS.md §3): it needs the action.
      if (trigger != core::Trigger::kApi) {
        return ErrorResponse(
            absl::InvalidArgumentError("field 'cascade': only with \"trigger\": \"api\""));
      }
      trigger = core::Trigger::kRecovery;
    }
    if (trigger == core::Trigger::kRecovery || trigger == core::Trigger::kSuperRecovery) {
      // Recovery reruns one scheduled action of this job (Hera's 手动恢复); super recovery
      // reruns it and everything downstream of it, each once (超级恢复).
      if (!action_id) {
        return ErrorResponse(absl::InvalidArgumentError(
            "field 'action_id': a recovery names the action to run again"));
      }
      HERA_TRY(core::Action action, c.store->GetAction(*action_id));
      if (action.job_id != id) {
        return ErrorResponse(absl::InvalidArgumentError(
            absl::StrCat("field 'action_id': action ", *action_id, " belongs to job ",
                         action.job_id, ", not job ", id)));
      }
      HERA_TRY(core::RunTicket t, trigger == core::Trigger::kRecovery
                                      ? c.engine->RecoverAction(*action_id, u.username)
                                      : c.engine->SuperRecoverAction(*action_id, u.username));
      return JsonResponse(202, {{"run_id", t.run_id}, {"action_id", t.action_id}});
    }
    if (action_id) {
      return ErrorResponse(absl::InvalidArgumentError(
          "field 'action_id': manual and api runs create their own action; use "
          "\"trigger\": \"recovery\" to run an existing action again"));
    }
    HERA_TRY(core::RunTicket t, c.engine->RunJob(id, trigger, u.username));
    return JsonResponse(202, {{"run_id", t.run_id}, {"action_id", t.action_id}});
  }));
  for (const bool enable : {true, false}) {
    r.Add("POST", enable ? "/api/v1/jobs/{id}/enable" : "/api/v1/jobs/{id}/disable",
          Authenticated(c.auth, [c, enable](HttpRequest& req, const core::User& u) {
            HERA_TRY(int64_t id, PathId(req));
            HERA_TRY(json body, JsonBody(req, /*empty_ok=*/true));
            bool chain = false;
            for (const auto& [key, value] : body.items()) {
              if (key != "chain" || !value.is_boolean()) {
                return ErrorResponse(absl::InvalidArgumentError(absl::StrCat(
                    "field '", key, "': ", key == "chain" ? "must be true or false"
                                                          : "unknown field")));
              }
              chain = value.get<bool>();
            }
            HERA_TRY(auto changed, c.engine->SetJobEnabled(id, enable, chain, u.username));
            json ids = json::array();
            json job;
            for (const auto& j : changed) {
              ids.push_back(j.id);
              if (j.id == id) job = MaskedJobJson(j, c.tz);
            }
            job["changed"] = ids;
            return JsonResponse(200, job);
          }));
  }
  r.Add("GET", "/api/v1/jobs/{id}/revisions", Authenticated(c.auth, [c](HttpRequest& req,
                                                                        const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Job job, c.store->GetJob(id));
    HERA_TRY(auto revs, c.store->ListJobRevisions(job.id));
    json items = json::array();
    for (const auto& rev : revs) items.push_back(MaskedRevisionJson(rev, c.tz));
    return JsonResponse(200, {{"items", items}, {"total", revs.size()}});
  }));
  r.Add("GET", "/api/v1/jobs/{id}/actions", Authenticated(c.auth, [c](HttpRequest& req,
                                                                      const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Job job, c.store->GetJob(id));
    absl::Time from = absl::InfinitePast(), to = absl::InfiniteFuture();
    for (auto [name, t] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
      auto it = req.query.find(name);
      if (it == req.query.end()) continue;
      HERA_TRY(*t, ParseIsoTimeParam(name, it->second, c.tz));
    }
    HERA_TRY(auto actions, c.store->ListActions(job.id, from, to));
    json items = json::array();
    for (const auto& a : actions) items.push_back(core::ActionToJson(a, c.tz));
    return JsonResponse(200, {{"items", items}, {"total", actions.size()}});
  }));
}

void AddActionRoutes(Router& r, const ApiContext& c) {
  r.Add("GET", "/api/v1/actions/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                                 const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Action a, c.store->GetAction(id));
    return JsonResponse(200, core::ActionToJson(a, c.tz));
  }));
  r.Add("POST", "/api/v1/actions/{id}/force", Authenticated(c.auth, [c](HttpRequest& req,
                                                                        const core::User& u) {
    if (!u.is_admin) {
      return ErrorResponse(absl::PermissionDeniedError("only an admin may force a status"));
    }
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(json body, JsonBody(req));
    std::string status, reason;
    for (const auto& [key, value] : body.items()) {
      if ((key != "status" && key != "reason") || !value.is_string()) {
        return ErrorResponse(absl::InvalidArgumentError(absl::StrCat(
            "field '", key, "': ", key == "status" || key == "reason" ? "must be a string"
                                                                      : "unknown field")));
      }
      (key == "status" ? status : reason) = value.get<std::string>();
    }
    const auto parsed = core::ParseActionStatus(status);
    if (!parsed) {
      return ErrorResponse(absl::InvalidArgumentError(
          "field 'status': must be \"success\" or \"failed\""));
    }
    HERA_TRY(core::Action a, c.engine->ForceAction(id, *parsed, reason, u.username));
    return JsonResponse(200, core::ActionToJson(a, c.tz));
  }));
}

}  // namespace

HttpHandler MakeApiHandler(const ApiContext& ctx) {
  auto router = std::make_shared<Router>();
  router->Add("GET", "/healthz", [c = ctx](HttpRequest&) {
    if (const std::string why = c.disk_full ? c.disk_full() : ""; !why.empty()) {
      return JsonResponse(503, {{"status", "disk_full"}, {"message", why}});
    }
    return JsonResponse(200, {{"status", "ok"}});
  });
  AddAuthRoutes(*router, ctx);
  AddGroupRoutes(*router, ctx);
  AddJobRoutes(*router, ctx);
  AddActionRoutes(*router, ctx);
  AddRerunRoutes(*router, ctx);
  AddBackfillRoutes(*router, ctx);
  AddWorkerRoutes(*router, ctx);
  AddRunRoutes(*router, ctx);
  AddRevisionRoutes(*router, ctx);
  AddGraphRoutes(*router, ctx);
  AddRenderRoutes(*router, ctx);
  AddResourceRoutes(*router, ctx);
  return [router, disk_full = ctx.disk_full](HttpRequest& req) {
    if (disk_full && ChangesState(req)) {
      // Refused before anything is decided: a request the store could not finish would hang,
      // or be carried out later, after its client gave up.
      if (const std::string why = disk_full(); !why.empty()) {
        return JsonResponse(507, {{"error", {{"code", "RESOURCE_EXHAUSTED"}, {"message", why}}}});
      }
    }
    return router->Handle(req);
  };
}

}  // namespace hera::api
