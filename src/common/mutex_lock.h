#pragma once
// absl::MutexLock that ThreadSanitizer understands.
//
// Debian's Abseil is built without TSan, so the happens-before edges of absl::Mutex (futexes and
// atomics inside the uninstrumented library) are invisible to TSan and every guarded access is
// reported as a race. Under TSan this guard adds the edges by hand with __tsan_acquire/release on
// the mutex's address; otherwise it is exactly absl::MutexLock.
// Every module that guards state with absl::Mutex uses this guard instead of absl::MutexLock.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#if defined(__SANITIZE_THREAD__)
#define HERA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HERA_TSAN 1
#endif
#endif

#ifdef HERA_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace hera {

// Tells TSan that what `mu`'s previous holders did happens before what follows (call right after
// acquiring `mu`, also after a Mutex::Await returns).
inline void TsanAcquired([[maybe_unused]] absl::Mutex* mu) {
#ifdef HERA_TSAN
  __tsan_acquire(mu);
#endif
}
// Tells TSan that what happened so far happens before the next holder of `mu` (call right before
// releasing `mu`, also before a Mutex::Await, which releases it while waiting).
inline void TsanReleasing([[maybe_unused]] absl::Mutex* mu) {
#ifdef HERA_TSAN
  __tsan_release(mu);
#endif
}

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(absl::Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
    TsanAcquired(mu_);
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {
    TsanReleasing(mu_);
    mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // cv->Wait(mu) with the edges TSan needs around the wait, which releases the mutex. Loop on
  // the predicate in the caller (not with absl::Condition: Abseil may evaluate a Condition on
  // the thread that unlocks, outside the edges this guard adds).
  void Wait(absl::CondVar* cv) {
    TsanReleasing(mu_);
    cv->Wait(mu_);
    TsanAcquired(mu_);
  }

 private:
  absl::Mutex* const mu_;
};

}  // namespace hera
