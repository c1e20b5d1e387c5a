#pragma once
// Exponential backoff with jitter between connection attempts, so that a fleet of workers
// that lost their master do not all knock at the same instant when it comes back.

#include <random>

#include "absl/time/time.h"

namespace hera::worker {

// Not thread-safe.
class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max)
      : initial_(initial), max_(max), next_(initial), random_(std::random_device()()) {}

  // The wait before the next attempt: the current step scaled by a random factor in
  // [0.8, 1.2); the step then doubles, up to `max`.
  absl::Duration Next();
  // Back to `initial` (after a success).
  void Reset() { next_ = initial_; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  absl::Duration next_;
  std::mt19937 random_;
};

}  // namespace hera::worker
