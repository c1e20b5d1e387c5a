#include "common/short_slices.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace hera {
namespace {

// struct sched_attr of <linux/sched/types.h>, which glibc 2.36 does not export.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;  // For SCHED_OTHER and SCHED_BATCH: the requested slice, in ns.
  uint64_t sched_deadline;
  uint64_t sched_period;
};

constexpr uint64_t kResetOnFork = 0x01;  // SCHED_FLAG_RESET_ON_FORK
// The shortest slice the kernel accepts. A wake-up of the engine is ~100 µs of work.
constexpr uint64_t kSliceNs = 100'000;

}  // namespace

bool RequestShortSlices() {
  SchedAttr attr{};
  if (::syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0) return false;
  if (attr.sched_policy != SCHED_OTHER && attr.sched_policy != SCHED_BATCH) return false;
  // Set again as read (policy, nice), plus the slice; reset-on-fork keeps the short slice from
  // passing to whatever this thread starts. Older kernels ignore sched_runtime here.
  attr.size = sizeof(attr);
  attr.sched_flags = kResetOnFork;
  attr.sched_runtime = kSliceNs;
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

}  // namespace hera
