#pragma once
// Incremental parser for a text/event-stream body (the WHATWG "server-sent events" format), as
// `GET /api/v1/runs/{id}/log/stream` sends it. Bytes arrive in arbitrary chunks; the parser keeps
// the partial line and the event being built between calls to Feed().

#include <functional>
#include <string>
#include <string_view>

namespace hera::cli {

struct SseEvent {
  std::string type = "message";  // the "event:" field; "message" when absent
  std::string data;              // "data:" lines joined with '\n'
  std::string id;                // the last "id:" seen in the stream so far (may be empty)
};

// Not thread-safe. One parser per connection: after a reconnect, start a new one.
class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;

  // Parses `chunk` and calls `on_event` for each event completed (by a blank line) within it.
  // Lines may end in "\n", "\r\n" or "\r"; comments (":...") and unknown fields are ignored.
  void Feed(std::string_view chunk, const Callback& on_event);

  // The id of the last event seen, as a reconnect would send it in Last-Event-ID.
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  void ProcessLine(std::string_view line, const Callback& on_event);

  std::string line_;          // bytes of the current, unfinished line
  bool skip_lf_ = false;      // the previous chunk ended in '\r': drop a leading '\n'
  bool bom_checked_ = false;  // a UTF-8 BOM starting the first line is skipped
  std::string type_;          // event type buffer
  std::string data_;          // data buffer, each line followed by '\n'
  bool has_data_ = false;
  std::string last_event_id_;
};

}  // namespace hera::cli
