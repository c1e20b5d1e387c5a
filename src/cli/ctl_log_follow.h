#pragma once
// Following a run's log over SSE (`GET /runs/{id}/log/stream`) until the run ends, resuming from
// the last byte offset when the connection drops.

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/ctl_api.h"
#include "cli/ctl_sse_parser.h"

namespace hera::cli {

using LogSink = std::function<void(std::string_view bytes)>;

// Applies the events of one run's log stream: `log` events go to the sink exactly once each
// byte even when a resumed stream repeats part of what was seen, and `end` carries the run.
// Not thread-safe.
class LogFollower {
 public:
  // `offset`: the first log byte wanted. `sink` receives the log bytes in order.
  LogFollower(int64_t offset, LogSink sink) : offset_(offset), sink_(std::move(sink)) {}

  // Returns InvalidArgument for a `log` event whose data is not {"offset":N,"data":"..."}.
  // Unknown event types are ignored.
  absl::Status OnEvent(const SseEvent& event);

  // The offset to resume from: just past the last byte given to the sink.
  int64_t offset() const { return offset_; }
  bool ended() const { return ended_; }
  // The run from the `end` event; null when the event's data was not a JSON object.
  const Json& final_run() const { return final_run_; }

 private:
  int64_t offset_;
  LogSink sink_;
  bool ended_ = false;
  Json final_run_;
};

struct FollowOptions {
  // Consecutive connection attempts that may fail (or end without progress) before giving up.
  int max_attempts = 8;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(5);
  // A stream silent this long (no log, no keepalive) is treated as dropped and resumed.
  absl::Duration stall_timeout = absl::Seconds(90);
  // Told about each reconnect (for a note on stderr); may be empty.
  std::function<void(const absl::Status& why, int64_t offset)> on_reconnect;
};

// Streams the log of run `run_id` from `offset` into `sink` until the run's `end` event and
// returns the run (fetched with GET /runs/{id} if the event's data was unusable). Errors: the
// server's (not found, 401: no retry), the connection error when the first connection fails,
// or the last connection error after max_attempts.
absl::StatusOr<Json> FollowLog(ApiClient& api, int64_t run_id, int64_t offset, LogSink sink,
                               const FollowOptions& options = {});

}  // namespace hera::cli
