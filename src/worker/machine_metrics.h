#pragma once
// The load figures a worker reports in every heartbeat (DESIGN §6) and the master dispatches by
// (SEMANTICS §6: memory use ≤ 70 %, load per core ≤ 1.0), read from /proc and statvfs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace hera::worker {

struct MachineMetrics {
  double cpu_percent = 0;          // 0-100: busy share of all cpus since the previous sample.
  double load_per_core = 0;        // 1-minute load average / cpus.
  int64_t memory_used_bytes = 0;   // MemTotal − MemAvailable.
  int64_t memory_total_bytes = 0;  // MemTotal.
  int64_t disk_free_bytes = 0;     // Free to unprivileged users on the work dir's filesystem.
  int cpus = 0;                    // Online cpus (the cpuN lines of /proc/stat).
};

// The aggregate "cpu" line of /proc/stat, in clock ticks since boot.
struct CpuTimes {
  uint64_t busy = 0;   // user + nice + system + irq + softirq + steal.
  uint64_t total = 0;  // busy + idle + iowait (guest time is already inside user and nice).
  int cpus = 0;        // Number of cpuN lines.
};

// Parses /proc/stat text. InvalidArgument if the "cpu" line is missing or malformed.
absl::StatusOr<CpuTimes> ParseProcStat(std::string_view text);

// Busy share (0-100) of the ticks between `before` and `after`; with no `before`, or counters
// that did not advance, the share of `after` since boot.
double CpuPercent(const std::optional<CpuTimes>& before, const CpuTimes& after);

struct MemInfo {
  int64_t total_bytes = 0;
  int64_t available_bytes = 0;
};

// Parses /proc/meminfo text (values in kB). Without MemAvailable (kernels before 3.14),
// available = MemFree + Buffers + Cached. InvalidArgument if MemTotal or MemFree is missing.
absl::StatusOr<MemInfo> ParseMeminfo(std::string_view text);

// Returns the 1-minute load average from /proc/loadavg text; InvalidArgument if malformed.
absl::StatusOr<double> ParseLoadavg(std::string_view text);

// Samples MachineMetrics. Keeps the previous /proc/stat reading so cpu_percent covers the time
// between two Sample() calls (the first covers the time since boot). Not thread-safe: one
// heartbeat loop owns it.
class MetricsSampler {
 public:
  // `work_dir` is the directory whose filesystem's free space is reported; `proc_root` is where
  // stat, loadavg and meminfo are read (tests point it at a directory of fixed files).
  explicit MetricsSampler(std::string work_dir, std::string proc_root = "/proc")
      : work_dir_(std::move(work_dir)), proc_root_(std::move(proc_root)) {}

  // Reads every source once. Returns the first error, naming the file or directory; a failed
  // sample does not replace the previous cpu reading.
  absl::StatusOr<MachineMetrics> Sample();

 private:
  const std::string work_dir_;
  const std::string proc_root_;
  std::optional<CpuTimes> previous_;
};

}  // namespace hera::worker
