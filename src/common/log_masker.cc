#include "common/log_masker.h"

#include <algorithm>
#include <utility>

namespace hera {

LogMasker::LogMasker(std::vector<std::string> secrets) {
  for (auto& s : secrets) {
    if (!s.empty()) secrets_.push_back(std::move(s));
  }
}

std::string LogMasker::Apply(std::string_view buf, const std::vector<bool>& masked) {
  std::string out(buf);
  for (size_t i = 0; i < out.size(); ++i) {
    if (masked[i]) out[i] = '*';
  }
  return out;
}

std::string LogMasker::Feed(std::string_view bytes) {
  if (secrets_.empty()) return std::string(bytes);
  std::string buf = std::move(tail_);
  buf.append(bytes);
  std::vector<bool> masked = std::move(tail_masked_);
  masked.resize(buf.size(), false);
  // Flags, not replacements, so that overlapping secrets are all found in the raw bytes.
  for (const std::string& s : secrets_) {
    for (size_t at = buf.find(s); at != std::string::npos; at = buf.find(s, at + 1)) {
      std::fill(masked.begin() + at, masked.begin() + at + s.size(), true);
    }
  }
  // Hold the longest suffix that is a proper prefix of a secret: an occurrence that starts
  // before it was complete in `buf` and is flagged, so nothing final can still change.
  size_t hold = 0;
  for (const std::string& s : secrets_) {
    for (size_t len = std::min(s.size() - 1, buf.size()); len > hold; --len) {
      if (std::string_view(buf).substr(buf.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  const size_t keep = buf.size() - hold;
  tail_ = buf.substr(keep);
  tail_masked_.assign(masked.begin() + keep, masked.end());
  masked.resize(keep);
  buf.resize(keep);
  return Apply(buf, masked);
}

std::string LogMasker::Flush() {
  std::string out = Apply(tail_, tail_masked_);
  tail_.clear();
  tail_masked_.clear();
  return out;
}

}  // namespace hera
