#include "api/render_routes.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/request_util.h"
#include "common/status.h"
#include "common/time_format.h"
#include "render/effective_configs.h"
#include "render/job_script.h"
#include "render/secret_keys.h"

namespace hera::api {
namespace {

using nlohmann::json;

// Group `id` and its ancestors as stored now, nearest first.
absl::StatusOr<std::vector<core::Group>> GroupChain(core::Store* store, core::GroupId id) {
  std::vector<core::Group> chain;
  std::set<core::GroupId> seen;
  for (std::optional<core::GroupId> next = id; next;) {
    if (!seen.insert(*next).second) {
      return absl::InternalError(absl::StrCat("group ", *next, " is its own ancestor"));
    }
    HERA_ASSIGN_OR_RETURN(core::Group g, store->GetGroup(*next));
    next = g.parent_id;
    chain.push_back(std::move(g));
  }
  return chain;
}

// `job`'s effective configs (render::MergeConfigs over `chain`).
render::EffectiveConfigs Effective(const core::Job& job, const std::vector<core::Group>& chain) {
  std::vector<render::GroupConfigs> groups;
  groups.reserve(chain.size());
  for (const core::Group& g : chain) groups.push_back({g.id, g.configs});
  return render::MergeConfigs(job.configs, groups);
}

// The zone `zone` names, or the server's when it names none.
absl::StatusOr<absl::TimeZone> LoadJobZone(const core::Job& job, const core::JobZone& zone,
                                           const absl::TimeZone& server) {
  absl::TimeZone tz = server;
  if (!zone.name.empty() && !absl::LoadTimeZone(zone.name, &tz)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", job.id, "'s time zone '", zone.name, "' is unknown to this server"));
  }
  return tz;
}

HttpResponse EffectiveConfigs(const ApiContext& c, HttpRequest& req) {
  HERA_TRY(int64_t id, PathId(req));
  HERA_TRY(core::Job job, c.store->GetJob(id));
  HERA_TRY(auto chain, GroupChain(c.store, job.group_id));
  json items = json::array();
  for (const auto& [key, config] : Effective(job, chain)) {
    const bool secret = render::IsSecretKey(key);
    json item = {{"key", key},
                 {"value", secret ? std::string(render::kSecretMask) : config.value},
                 {"source", config.source},
                 {"secret", secret}};
    for (const core::Group& g : chain) {
      if (config.source == absl::StrCat("group:", g.id)) {
        item["group_id"] = g.id;
        item["group_name"] = g.name;
      }
    }
    if (secret) item["env"] = render::SecretEnvName(key);
    items.push_back(std::move(item));
  }
  return JsonResponse(200, {{"job_id", job.id}, {"items", items}, {"total", items.size()}});
}

// `job` as it is now, rendered as a run scheduled at `at` would be; secrets appear only as the
// names of the variables they would be exported as.
HttpResponse Preview(const ApiContext& c, const core::Job& job, absl::Time at,
                     std::optional<core::ActionId> action) {
  HERA_TRY(auto chain, GroupChain(c.store, job.group_id));
  const core::JobZone job_zone = StoredJobZone(c.store, job);
  HERA_TRY(absl::TimeZone zone, LoadJobZone(job, job_zone, c.tz));
  HERA_TRY(render::JobScript script,
           render::RenderJobScript(job.script, Effective(job, chain), at, zone));
  json downloads = json::array();
  for (const auto& d : script.rendered.downloads) {
    downloads.push_back({{"uri", d.uri}, {"name", d.name}});
  }
  json env = json::object();
  for (const auto& [name, key] : script.secrets) env[name] = std::string(render::kSecretMask);
  return JsonResponse(200, {{"job_id", job.id},
                            {"action_id", action ? json(*action) : json(nullptr)},
                            {"scheduled_time", FormatIsoTime(at, zone)},
                            {"timezone", zone.name()},
                            {"timezone_reason", job_zone.reason},
                            {"script", script.rendered.text},
                            {"downloads", downloads},
                            {"env", env}});
}

HttpResponse PreviewAction(const ApiContext& c, HttpRequest& req) {
  HERA_TRY(int64_t id, PathId(req));
  HERA_TRY(core::Action action, c.store->GetAction(id));
  HERA_TRY(core::Job job, c.store->GetJob(action.job_id));
  return Preview(c, job, action.scheduled_time, action.id);
}

HttpResponse PreviewJob(const ApiContext& c, HttpRequest& req) {
  HERA_TRY(int64_t id, PathId(req));
  HERA_TRY(core::Job job, c.store->GetJob(id));
  absl::Time at = absl::Now();
  if (auto it = req.query.find("time"); it != req.query.end() && !it->second.empty()) {
    // A time without an offset is read in the job's zone, where its macros are evaluated.
    const core::JobZone job_zone = StoredJobZone(c.store, job);
    HERA_TRY(absl::TimeZone zone, LoadJobZone(job, job_zone, c.tz));
    HERA_TRY(at, ParseIsoTimeParam("time", it->second, zone));
  }
  return Preview(c, job, at, std::nullopt);
}

}  // namespace

void AddRenderRoutes(Router& r, const ApiContext& c) {
  r.Add("GET", "/api/v1/jobs/{id}/configs/effective",
        Authenticated(
            c.auth, [c](HttpRequest& req, const core::User&) { return EffectiveConfigs(c, req); }));
  r.Add("GET", "/api/v1/actions/{id}/preview",
        Authenticated(c.auth,
                      [c](HttpRequest& req, const core::User&) { return PreviewAction(c, req); }));
  r.Add("GET", "/api/v1/jobs/{id}/preview",
        Authenticated(c.auth,
                      [c](HttpRequest& req, const core::User&) { return PreviewJob(c, req); }));
}

}  // namespace hera::api
