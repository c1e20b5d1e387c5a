#include "cli/ctl_log_follow.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace hera::cli {
namespace {

std::optional<int64_t> ParseOffset(std::string_view s) {
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// Errors worth another connection: the network, and a server between restarts.
bool Retryable(const absl::Status& st) {
  return ExitCodeFor(st) == kExitUnreachable || st.code() == absl::StatusCode::kUnavailable;
}

}  // namespace

absl::Status LogFollower::OnEvent(const SseEvent& event) {
  if (event.type == "end") {
    ended_ = true;
    final_run_ = Json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    if (!final_run_.is_object()) final_run_ = Json();
    return absl::OkStatus();
  }
  if (event.type != "log") return absl::OkStatus();

  const Json j = Json::parse(event.data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("offset") || !j["offset"].is_number_integer() ||
      !j.contains("data") || !j["data"].is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed log event from the server: ", event.data.substr(0, 200)));
  }
  const int64_t start = j["offset"].get<int64_t>();
  const std::string& data = j["data"].get_ref<const std::string&>();
  const int64_t end = start + static_cast<int64_t>(data.size());
  // A resumed stream may start before what we already printed: skip the overlap. A gap (start
  // beyond our offset) means the server no longer has those bytes; print what there is.
  if (end > offset_) {
    const int64_t skip = std::max<int64_t>(0, offset_ - start);
    sink_(std::string_view(data).substr(static_cast<size_t>(skip)));
  }
  // The event id is the server's own resume point; trust it over our byte count.
  const std::optional<int64_t> id = ParseOffset(event.id);
  offset_ = std::max(offset_, id.value_or(end));
  return absl::OkStatus();
}

absl::StatusOr<Json> FollowLog(ApiClient& api, int64_t run_id, int64_t offset, LogSink sink,
                               const FollowOptions& options) {
  LogFollower follower(offset, std::move(sink));
  int failures = 0;
  bool ever_connected = false;
  absl::Duration backoff = options.initial_backoff;
  for (;;) {
    const int64_t offset_before = follower.offset();
    SseParser parser;  // a new connection starts a new event stream
    absl::Status event_error;
    bool progressed = false;
    absl::Status st = api.Stream(
        absl::StrCat("/runs/", run_id, "/log/stream?offset=", follower.offset()),
        follower.offset() > 0 ? std::to_string(follower.offset()) : "",
        [&](std::string_view chunk) {
          progressed = true;  // even a keepalive proves the server is there
          parser.Feed(chunk, [&](const SseEvent& e) {
            if (event_error.ok() && !follower.ended()) event_error = follower.OnEvent(e);
          });
          return event_error.ok() && !follower.ended();
        },
        options.stall_timeout);
    if (!event_error.ok()) return event_error;
    if (follower.ended()) break;
    if (!st.ok() && !Retryable(st)) return st;
    // A server that was never reached is down or misnamed: say so now rather than retrying.
    ever_connected = ever_connected || progressed || st.ok();
    if (!ever_connected) return st;
    if (st.ok()) {
      st = absl::UnavailableError("the log stream closed before the run ended");
    }
    if (progressed || follower.offset() != offset_before) {
      failures = 0;
      backoff = options.initial_backoff;
    }
    if (++failures >= options.max_attempts) return st;
    if (options.on_reconnect) options.on_reconnect(st, follower.offset());
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
  if (follower.final_run().is_object()) return follower.final_run();
  return api.Get(absl::StrCat("/runs/", run_id));
}

}  // namespace hera::cli
