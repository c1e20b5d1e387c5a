#include "worker/backoff.h"

#include <algorithm>

namespace hera::worker {

absl::Duration Backoff::Next() {
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const absl::Duration wait = next_ * jitter(random_);
  next_ = std::min(next_ * 2, max_);
  return wait;
}

}  // namespace hera::worker
