#include "api/revision_routes.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/request_util.h"
#include "api/secret_masking.h"
#include "common/json_text.h"
#include "common/status.h"
#include "core/definition_diff.h"
#include "core/json_codec.h"

namespace hera::api {
namespace {

using nlohmann::json;

// Fields of a stored definition that a restore leaves as they are now. `enabled` is state with
// guards of its own (an enabled downstream, a disabled upstream, the whole chain): restoring
// last week's script must not switch a job on or off behind the enable/disable endpoints. The
// others are read-only and absent from definitions; they are dropped in case an old one had
// them.
constexpr const char* kNotRestored[] = {"enabled", "id", "version", "created_at", "updated_at"};

// Job `job_id`'s revision `version` in `revs` (newest first), or NotFound naming what exists.
absl::StatusOr<const core::JobRevision*> FindRevision(const std::vector<core::JobRevision>& revs,
                                                      core::JobId job_id, int64_t version) {
  for (const auto& r : revs) {
    if (r.version == version) return &r;
  }
  if (revs.empty()) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " has no revisions"));
  }
  return absl::NotFoundError(absl::StrCat("job ", job_id, " has no revision ", version,
                                          " (its revisions are ", revs.back().version, "-",
                                          revs.front().version, ")"));
}

// The definition a revision stored, as JSON. Internal when the stored text is not an object.
absl::StatusOr<json> DefinitionOf(const core::JobRevision& rev) {
  auto def = ParseJsonText(rev.definition_json);
  if (!def.ok() || !def->is_object()) {
    return absl::InternalError(absl::StrCat("revision ", rev.version, " of job ", rev.job_id,
                                            " has an unreadable definition"));
  }
  return def;
}

// A restore that the save rules refuse: the request was well-formed, the stored definition no
// longer fits (its group or upstream was deleted, its name is taken, an upstream is disabled,
// it would close a cycle), so it is a conflict with the current state (409), not a bad request
// or a missing resource.
absl::Status RestoreError(const absl::Status& st, core::JobId job, int64_t version) {
  const std::string context = absl::StrCat("restoring revision ", version, " of job ", job);
  if (st.code() == absl::StatusCode::kNotFound || st.code() == absl::StatusCode::kInvalidArgument) {
    return absl::FailedPreconditionError(absl::StrCat(context, ": ", st.message()));
  }
  return WithContext(st, context);
}

HttpResponse GetRevision(const ApiContext& c, HttpRequest& req) {
  HERA_TRY(int64_t id, PathId(req));
  HERA_TRY(int64_t version, PathId(req, "rev"));
  HERA_TRY(core::Job job, c.store->GetJob(id));
  HERA_TRY(auto revs, c.store->ListJobRevisions(job.id));
  HERA_TRY(const core::JobRevision* rev, FindRevision(revs, job.id, version));
  return JsonResponse(200, MaskedRevisionJson(*rev, c.tz));
}

HttpResponse DiffRevision(const ApiContext& c, HttpRequest& req) {
  HERA_TRY(int64_t id, PathId(req));
  HERA_TRY(int64_t version, PathId(req, "rev"));
  HERA_TRY(core::Job job, c.store->GetJob(id));
  HERA_TRY(auto revs, c.store->ListJobRevisions(job.id));
  HERA_TRY(const core::JobRevision* to, FindRevision(revs, job.id, version));
  HERA_TRY(json after, DefinitionOf(*to));

  // `from`: null when `rev` is the first revision and no `against` was given (then every
  // field is new).
  json from = nullptr;
  json before = json::object();
  const auto against = req.query.find("against");
  if (against == req.query.end() || against->second.empty()) {
    for (const auto& r : revs) {  // newest first: the first older one is the one before
      if (r.version >= version) continue;
      HERA_TRY(before, DefinitionOf(r));
      from = r.version;
      break;
    }
  } else if (against->second == "current") {
    before = core::JobDefinitionToJson(job);
    from = job.version;
  } else {
    int64_t other = 0;
    if (!absl::SimpleAtoi(against->second, &other) || other <= 0) {
      return ErrorResponse(
          absl::InvalidArgumentError(absl::StrCat("query parameter 'against': '", against->second,
                                                  "' is neither a revision number nor 'current'")));
    }
    HERA_TRY(const core::JobRevision* r, FindRevision(revs, job.id, other));
    HERA_TRY(before, DefinitionOf(*r));
    from = other;
  }
  // Diffed in the stored form, so that a changed secret is listed, then masked.
  std::vector<core::FieldChange> changes = core::DiffDefinitions(before, after);
  MaskChangeSecrets(&changes);
  return JsonResponse(200, {{"job_id", job.id},
                            {"from", from},
                            {"to", version},
                            {"changes", core::ChangesToJson(changes)}});
}

HttpResponse RestoreRevision(const ApiContext& c, HttpRequest& req, const core::User& u) {
  HERA_TRY(int64_t id, PathId(req));
  HERA_TRY(int64_t version, PathId(req, "rev"));
  HERA_TRY(json body, JsonBody(req, /*empty_ok=*/true));
  if (!body.is_object() || !body.empty()) {
    return ErrorResponse(absl::InvalidArgumentError(
        "a restore takes no body: it applies the whole stored definition"));
  }
  HERA_TRY(core::Job job, c.store->GetJob(id));
  HERA_TRY(auto revs, c.store->ListJobRevisions(job.id));
  HERA_TRY(const core::JobRevision* rev, FindRevision(revs, job.id, version));
  HERA_TRY(json definition, DefinitionOf(*rev));
  for (const char* field : kNotRestored) definition.erase(field);

  // A definition that already matches answers the job as it is, without a save: an empty
  // revision would only bury the history. Fields an old definition lacks keep their values.
  const json current = core::JobDefinitionToJson(job);
  json changed = json::array();
  for (const auto& [key, value] : definition.items()) {
    if (!current.contains(key) || current[key] != value) changed.push_back(key);
  }
  if (!changed.empty()) {
    auto saved = c.engine->UpdateJob(job.id, definition, u.username, {});
    if (!saved.ok()) return ErrorResponse(RestoreError(saved.status(), job.id, version));
    job = *std::move(saved);
  }
  json out = MaskedJobJson(job, c.tz);
  out["restored_from"] = version;
  out["changed_fields"] = std::move(changed);
  return JsonResponse(200, out);
}

}  // namespace

void AddRevisionRoutes(Router& r, const ApiContext& c) {
  r.Add("GET", "/api/v1/jobs/{id}/revisions/{rev}",
        Authenticated(c.auth,
                      [c](HttpRequest& req, const core::User&) { return GetRevision(c, req); }));
  r.Add("GET", "/api/v1/jobs/{id}/revisions/{rev}/diff",
        Authenticated(c.auth,
                      [c](HttpRequest& req, const core::User&) { return DiffRevision(c, req); }));
  r.Add("POST", "/api/v1/jobs/{id}/revisions/{rev}/restore",
        Authenticated(c.auth, [c](HttpRequest& req, const core::User& u) {
          return RestoreRevision(c, req, u);
        }));
}

}  // namespace hera::api
