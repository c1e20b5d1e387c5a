#include "api/run_routes.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "api/request_util.h"
#include "core/json_codec.h"

namespace hera::api {
namespace {

using nlohmann::json;

constexpr int64_t kStreamChunkBytes = 64 * 1024;
constexpr absl::Duration kKeepAlive = absl::Seconds(15);

std::string SseEvent(std::string_view event, std::string_view id, const json& data) {
  std::string out = absl::StrCat("event: ", AsAbsl(event), "\n");
  if (!id.empty()) absl::StrAppend(&out, "id: ", AsAbsl(id), "\n");
  absl::StrAppend(&out, "data: ", data.dump(-1, ' ', false, json::error_handler_t::replace),
                  "\n\n");
  return out;
}

// Streams run `id`'s log from `offset` as server-sent events until the run has ended and all
// of its log was sent, or the client goes away.
void StreamLog(const ApiContext& c, core::RunId id, int64_t offset, ResponseStream& out) {
  absl::Time last_write = absl::Now();
  out.Write("retry: 1000\n\n");
  while (out.open()) {
    auto data = c.logs->Read(id, offset, kStreamChunkBytes);
    if (data.ok() && !data->empty()) {
      const int64_t next = offset + static_cast<int64_t>(data->size());
      if (!out.Write(SseEvent("log", absl::StrCat(next), {{"offset", offset}, {"data", *data}}))) {
        return;
      }
      offset = next;
      last_write = absl::Now();
      continue;
    }
    auto run = c.store->GetRun(id);
    if (!run.ok()) return;
    if (core::IsTerminal(run->status)) {
      // Output is stored before the end is recorded, so one more read sees all of it.
      auto rest = c.logs->Read(id, offset, kStreamChunkBytes);
      if (rest.ok() && !rest->empty()) continue;
      out.Write(SseEvent("end", "", core::RunToJson(*run, c.tz)));
      return;
    }
    if (!c.logs->WaitForData(id, offset, absl::Seconds(1)) &&
        absl::Now() - last_write > kKeepAlive) {
      if (!out.Write(": keepalive\n\n")) return;
      last_write = absl::Now();
    }
  }
}

}  // namespace

void AddRunRoutes(Router& r, const ApiContext& c) {
  r.Add("GET", "/api/v1/runs", Authenticated(c.auth, [c](HttpRequest& req, const core::User&) {
    HERA_TRY(auto paging, Paging(req));
    core::RunFilter f;
    f.limit = paging.first;
    f.offset = paging.second;
    HERA_TRY(int64_t job, QueryInt(req, "job_id", 0, 1, INT64_MAX));
    if (job) f.job_id = job;
    HERA_TRY(int64_t action, QueryInt(req, "action_id", 0, 1, INT64_MAX));
    if (action) f.action_id = action;
    if (auto it = req.query.find("status"); it != req.query.end() && !it->second.empty()) {
      f.status = core::ParseRunStatus(it->second);
      if (!f.status) {
        return ErrorResponse(absl::InvalidArgumentError(absl::StrCat(
            "query parameter 'status': '", it->second,
            "' is not a run status (queued, running, success, failed, cancelled, lost)")));
      }
    }
    if (auto it = req.query.find("since"); it != req.query.end() && !it->second.empty()) {
      HERA_TRY(f.since, ParseIsoTimeParam("since", it->second, c.tz));
    }
    HERA_TRY(auto page, c.store->ListRuns(f));
    json items = json::array();
    for (const auto& run : page.items) items.push_back(core::RunToJson(run, c.tz));
    return JsonResponse(200, {{"items", items}, {"total", page.total}});
  }));
  r.Add("GET", "/api/v1/runs/{id}", Authenticated(c.auth, [c](HttpRequest& req,
                                                              const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Run run, c.store->GetRun(id));
    return JsonResponse(200, core::RunToJson(run, c.tz));
  }));
  r.Add("GET", "/api/v1/runs/{id}/log", Authenticated(c.auth, [c](HttpRequest& req,
                                                                  const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Run run, c.store->GetRun(id));
    HERA_TRY(int64_t offset, QueryInt(req, "offset", 0, 0, INT64_MAX));
    HERA_TRY(int64_t limit, QueryInt(req, "limit", 8 << 20, 1, 64 << 20));
    HERA_TRY(std::string data, c.logs->Read(id, offset, limit));
    HttpResponse resp;
    resp.content_type = "text/plain; charset=utf-8";
    resp.headers.emplace_back("X-Next-Offset", absl::StrCat(offset + data.size()));
    resp.headers.emplace_back("X-Log-Size", absl::StrCat(c.logs->Size(id)));
    resp.headers.emplace_back("X-Run-Finished", core::IsTerminal(run.status) ? "true" : "false");
    resp.body = std::move(data);
    return resp;
  }));
  r.Add("GET", "/api/v1/runs/{id}/log/stream", Authenticated(c.auth, [c](HttpRequest& req,
                                                                         const core::User&) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Run run, c.store->GetRun(id));
    HERA_TRY(int64_t offset, QueryInt(req, "offset", 0, 0, INT64_MAX));
    // EventSource resumes with Last-Event-ID, which is the offset after the last chunk.
    if (const std::string last = req.Header("last-event-id"); !last.empty()) {
      int64_t v = 0;
      if (absl::SimpleAtoi(last, &v) && v >= 0) offset = v;
    }
    HttpResponse resp;
    resp.content_type = "text/event-stream";
    resp.headers.emplace_back("X-Accel-Buffering", "no");
    resp.stream = [c, id, offset](ResponseStream& out) { StreamLog(c, id, offset, out); };
    return resp;
  }));
  r.Add("POST", "/api/v1/runs/{id}/cancel", Authenticated(c.auth, [c](HttpRequest& req,
                                                                      const core::User& u) {
    HERA_TRY(int64_t id, PathId(req));
    HERA_TRY(core::Run existing, c.store->GetRun(id));
    HERA_TRY(core::Run run, c.engine->CancelRun(existing.id, u.username));
    return JsonResponse(202, core::RunToJson(run, c.tz));
  }));
}

}  // namespace hera::api
