#include "api/run_routes.h"

#include <algorithm>
#include <memory>
#include <utility>

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

// Run `id`'s log from an offset as server-sent events, until the run has ended and all of its
// log was sent (then an "end" event), or the client goes away. Between chunks it watches the
// log instead of holding a thread.
class LogTail final : public StreamSource {
 public:
  LogTail(const ApiContext& c, core::RunId id, int64_t offset) : c_(c), id_(id), offset_(offset) {}
  ~LogTail() override { Unwatch(); }

  Step Pull(const StreamWaker& wake, std::string* out) override {
    using Then = Step::Then;
    if (!started_) {
      started_ = true;
      last_write_ = absl::Now();
      out->append("retry: 1000\n\n");
      return {Then::kMore};
    }
    Unwatch();
    const auto data = c_.logs->Read(id_, offset_, kStreamChunkBytes);
    if (data.ok() && data->next_offset > offset_) {
      AppendChunk(*data, out);
      return {Then::kMore};
    }
    auto run = c_.store->GetRun(id_);
    if (!run.ok()) return {Then::kDone};
    if (core::IsTerminal(run->status)) {
      // Output is stored before the end is recorded, so one more read sees all of it.
      const auto rest = c_.logs->Read(id_, offset_, kStreamChunkBytes);
      if (rest.ok() && rest->next_offset > offset_) {
        AppendChunk(*rest, out);
        return {Then::kMore};
      }
      out->append(SseEvent("end", "", core::RunToJson(*run, c_.tz)));
      return {Then::kDone};
    }
    const core::LogReader::DataWatch watch = c_.logs->WatchForData(id_, offset_, wake);
    absl::Duration wait = kKeepAlive;
    switch (watch.state) {
      case core::LogReader::DataWatch::State::kWatching:
        watch_id_ = watch.id;
        break;
      case core::LogReader::DataWatch::State::kReady:
        // It grew since the read: read again now, once. If that still finds nothing (the file
        // unreadable for now), no busy loop.
        if (data.ok() && !reread_) {
          reread_ = true;
          return {Then::kMore};
        }
        wait = kLookAgain;
        break;
      case core::LogReader::DataWatch::State::kNotOpen:
        // Queued and not started yet (or ended just now): nothing will wake us, so look
        // again soon.
        wait = kLookAgain;
        break;
    }
    const absl::Time now = absl::Now();
    if (now - last_write_ >= kKeepAlive) {
      out->append(": keepalive\n\n");
      last_write_ = now;
    }
    return {Then::kWait, std::min(wait, last_write_ + kKeepAlive - now)};
  }

 private:
  void AppendChunk(const core::LogReader::Chunk& chunk, std::string* out) {
    out->append(SseEvent("log", absl::StrCat(chunk.next_offset),
                         {{"offset", offset_}, {"data", chunk.data}}));
    offset_ = chunk.next_offset;
    last_write_ = absl::Now();
    reread_ = false;
  }
  void Unwatch() {
    if (watch_id_ != 0) c_.logs->Unwatch(std::exchange(watch_id_, 0));
  }

  static constexpr absl::Duration kLookAgain = absl::Seconds(1);
  const ApiContext c_;
  const core::RunId id_;
  int64_t offset_;
  bool started_ = false;
  absl::Time last_write_;
  uint64_t watch_id_ = 0;  // 0: none registered
  bool reread_ = false;    // the last pull found the log longer than it could read
};

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
    HERA_TRY(core::LogReader::Chunk chunk, c.logs->Read(id, offset, limit));
    HttpResponse resp;
    resp.content_type = "text/plain; charset=utf-8";
    resp.headers.emplace_back("X-Next-Offset", absl::StrCat(chunk.next_offset));
    resp.headers.emplace_back("X-Log-Size", absl::StrCat(c.logs->Size(id)));
    resp.headers.emplace_back("X-Run-Finished", core::IsTerminal(run.status) ? "true" : "false");
    resp.body = std::move(chunk.data);
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
    resp.stream = std::make_shared<LogTail>(c, id, offset);
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
