#include "api/worker_routes.h"

#include "absl/strings/str_cat.h"
#include "api/request_util.h"
#include "common/time_format.h"

namespace hera::api {
namespace {

using nlohmann::json;

json MetricsToJson(const core::WorkerMetrics& m) {
  return {{"cpu_percent", m.cpu_percent},
          {"load_per_core", m.load_per_core},
          {"memory_used_bytes", m.memory_used_bytes},
          {"memory_total_bytes", m.memory_total_bytes},
          {"disk_free_bytes", m.disk_free_bytes},
          {"cpus", m.cpus}};
}

json WorkerToJson(const core::WorkerInfo& w, const core::WorkerRuns* runs, const absl::TimeZone& tz) {
  const char* state = w.draining ? "draining" : (w.connected ? "online" : "offline");
  json j = {{"id", w.id},
            {"host", w.host},
            {"host_groups", w.host_groups},
            {"slots", w.slots},
            {"local", w.local},
            {"state", state},
            {"version", w.version},
            {"registered_at", FormatIsoTime(w.registered_at, tz)},
            {"last_heartbeat", w.local ? json(nullptr) : json(FormatIsoTime(w.last_heartbeat, tz))},
            {"metrics", w.metrics ? MetricsToJson(*w.metrics) : json(nullptr)},
            {"running_runs", runs ? json(runs->running) : json::array()},
            {"queued_runs", runs ? json(runs->queued) : json::array()}};
  return j;
}

// The worker named by the path, or NotFound.
absl::StatusOr<core::WorkerInfo> FindWorker(core::WorkerDirectory& workers, const std::string& id) {
  for (auto& w : workers.ListWorkers()) {
    if (w.id == id) return w;
  }
  return absl::NotFoundError(absl::StrCat("no worker '", id, "'"));
}

}  // namespace

void AddWorkerRoutes(Router& r, const ApiContext& c) {
  if (!c.workers) return;
  r.Add("GET", "/api/v1/workers", Authenticated(c.auth, [c](HttpRequest&, const core::User&) {
    HERA_TRY(auto runs, c.workers->RunsByWorker());
    json items = json::array();
    for (const auto& w : c.workers->ListWorkers()) {
      auto it = runs.find(w.id);
      items.push_back(WorkerToJson(w, it == runs.end() ? nullptr : &it->second, c.tz));
    }
    return JsonResponse(200, {{"items", items}, {"total", items.size()}});
  }));
  r.Add("GET", "/api/v1/workers/{id}/metrics", Authenticated(c.auth, [c](HttpRequest& req,
                                                                         const core::User&) {
    const std::string id = req.params["id"];
    HERA_TRY(core::WorkerInfo w, FindWorker(*c.workers, id));
    absl::Time since = absl::InfinitePast();
    if (auto it = req.query.find("since"); it != req.query.end()) {
      auto t = ParseIsoTime(it->second, c.tz);
      if (!t.ok()) {
        return ErrorResponse(absl::InvalidArgumentError(
            absl::StrCat("query 'since': ", t.status().message())));
      }
      since = *t;
    }
    json samples = json::array();
    for (const auto& s : c.workers->MetricsSince(w.id, since)) {
      json j = MetricsToJson(s.metrics);
      j["at"] = FormatIsoTime(s.at, c.tz);
      samples.push_back(std::move(j));
    }
    return JsonResponse(200, {{"worker", w.id}, {"items", samples}});
  }));
  for (const bool drain : {true, false}) {
    r.Add("POST", drain ? "/api/v1/workers/{id}/drain" : "/api/v1/workers/{id}/undrain",
          Authenticated(c.auth, [c, drain](HttpRequest& req, const core::User& u) {
            if (!u.is_admin) {
              return ErrorResponse(
                  absl::PermissionDeniedError("only an admin may drain or undrain a worker"));
            }
            const std::string id = req.params["id"];
            if (auto st = c.workers->SetDraining(id, drain); !st.ok()) return ErrorResponse(st);
            HERA_TRY(core::WorkerInfo w, FindWorker(*c.workers, id));
            HERA_TRY(auto runs, c.workers->RunsByWorker());
            auto it = runs.find(w.id);
            return JsonResponse(200, WorkerToJson(w, it == runs.end() ? nullptr : &it->second, c.tz));
          }));
  }
}

}  // namespace hera::api
