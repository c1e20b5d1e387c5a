#pragma once
// Masks a run's secret values in its log as the bytes stream in (SEMANTICS.md §7: secrets are
// masked in logs). Each byte of an occurrence becomes '*': the masked log has the length of
// the raw one, so the offsets a worker sends (and re-sends after a reconnect) stay the stored
// log's offsets. The cost is that a secret's length shows.
//
// A secret may be split across chunks ("hun" | "ter2"): the end of a chunk that could be the
// start of a secret is held back until the next chunk shows whether it is (or Flush()).
// Not thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace hera {

class LogMasker {
 public:
  // Empty values are ignored.
  explicit LogMasker(std::vector<std::string> secrets);

  // The bytes of the stream that are now final, masked: what was held before plus `bytes`,
  // minus a new held tail (at most the longest secret's length - 1).
  std::string Feed(std::string_view bytes);
  // The held tail, masked where already known to be secret; call when the stream ends.
  std::string Flush();
  // Bytes fed but not yet returned.
  size_t held() const { return tail_.size(); }
  // False when there is nothing to mask (no non-empty secret).
  bool active() const { return !secrets_.empty(); }

 private:
  // `buf` with the bytes flagged in `masked` replaced by '*'.
  static std::string Apply(std::string_view buf, const std::vector<bool>& masked);

  std::vector<std::string> secrets_;
  std::string tail_;
  // Per byte of tail_: already inside an occurrence (one that started before the tail and was
  // complete in the buffer it was found in).
  std::vector<bool> tail_masked_;
};

}  // namespace hera
