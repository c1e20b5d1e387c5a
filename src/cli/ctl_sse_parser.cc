#include "cli/ctl_sse_parser.h"

namespace hera::cli {

void SseParser::Feed(std::string_view chunk, const Callback& on_event) {
  size_t pos = 0;
  if (skip_lf_ && !chunk.empty()) {
    if (chunk[0] == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < chunk.size()) {
    const size_t end = chunk.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) {
      line_.append(chunk.substr(pos));
      return;
    }
    line_.append(chunk.substr(pos, end - pos));
    std::string line = std::move(line_);
    line_.clear();
    ProcessLine(line, on_event);
    pos = end + 1;
    if (chunk[end] == '\r') {
      if (pos < chunk.size()) {
        if (chunk[pos] == '\n') ++pos;
      } else {
        skip_lf_ = true;  // "\r\n" may be split across chunks
      }
    }
  }
}

void SseParser::ProcessLine(std::string_view line, const Callback& on_event) {
  if (!bom_checked_) {
    // Lines are assembled whole before this runs, so a BOM split across chunks is caught too.
    bom_checked_ = true;
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    // Dispatch. Per the spec an event without any data line is dropped.
    if (has_data_) {
      SseEvent event;
      if (!type_.empty()) event.type = type_;
      event.data = std::move(data_);
      if (!event.data.empty() && event.data.back() == '\n') event.data.pop_back();
      event.id = last_event_id_;
      on_event(event);
    }
    type_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment, e.g. ": keepalive"

  std::string_view field = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "event") {
    type_.assign(value);
  } else if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_.assign(value);
  }
  // "retry" and unknown fields: ignored (we choose our own reconnect delay).
}

}  // namespace hera::cli
