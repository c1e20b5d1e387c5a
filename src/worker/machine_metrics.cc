#include "worker/machine_metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace hera::worker {
namespace {

// /proc files report size 0, so read until EOF rather than by stat size.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  std::string data;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("read ", path));
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
  }
}

std::vector<absl::string_view> Fields(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<CpuTimes> ParseProcStat(std::string_view text) {
  std::optional<CpuTimes> times;
  int cpus = 0;
  for (absl::string_view line : absl::StrSplit(AsAbsl(text), '\n')) {
    std::vector<absl::string_view> f = Fields(line);
    if (f.empty() || !absl::StartsWith(f[0], "cpu")) continue;
    if (f[0] != "cpu") {  // "cpu0", "cpu1", ...: one per online cpu.
      if (f[0].size() > 3 && absl::ascii_isdigit(f[0][3])) ++cpus;
      continue;
    }
    // cpu user nice system idle iowait irq softirq steal guest guest_nice. Kernels before
    // 2.6.11 stop after idle; later columns count as 0 when absent. guest and guest_nice are
    // already included in user and nice, so they are not added again.
    if (f.size() < 5) {
      return absl::InvalidArgumentError(absl::StrCat("/proc/stat: short cpu line \"", line, "\""));
    }
    uint64_t v[8] = {};
    for (size_t i = 0; i < 8 && i + 1 < f.size(); ++i) {
      if (!absl::SimpleAtoi(f[i + 1], &v[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("/proc/stat: cpu column ", i + 1, " is not a number: \"", f[i + 1], "\""));
      }
    }
    const uint64_t idle = v[3] + v[4];  // idle + iowait: waiting on IO is not cpu work.
    CpuTimes t;
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    t.total = t.busy + idle;
    times = t;
  }
  if (!times) return absl::InvalidArgumentError("/proc/stat: no aggregate \"cpu\" line");
  times->cpus = cpus;
  return *times;
}

double CpuPercent(const std::optional<CpuTimes>& before, const CpuTimes& after) {
  // Counters only grow, but a sample taken within the same tick (or a hot-unplugged cpu) can
  // leave nothing to divide; fall back to the average since boot rather than report 0 or NaN.
  if (before && after.total > before->total && after.busy >= before->busy) {
    const double busy = static_cast<double>(after.busy - before->busy);
    const double total = static_cast<double>(after.total - before->total);
    return std::min(100.0, 100.0 * busy / total);
  }
  if (after.total == 0) return 0;
  return 100.0 * static_cast<double>(after.busy) / static_cast<double>(after.total);
}

absl::StatusOr<MemInfo> ParseMeminfo(std::string_view text) {
  std::optional<int64_t> total, mem_free, available, buffers, cached;
  for (absl::string_view line : absl::StrSplit(AsAbsl(text), '\n')) {
    // "MemTotal:       16314288 kB"
    std::vector<absl::string_view> f = Fields(line);
    if (f.size() < 2) continue;
    std::optional<int64_t>* slot = nullptr;
    if (f[0] == "MemTotal:") slot = &total;
    if (f[0] == "MemFree:") slot = &mem_free;
    if (f[0] == "MemAvailable:") slot = &available;
    if (f[0] == "Buffers:") slot = &buffers;
    if (f[0] == "Cached:") slot = &cached;
    if (slot == nullptr) continue;
    int64_t kb = 0;
    if (!absl::SimpleAtoi(f[1], &kb) || kb < 0) {
      return absl::InvalidArgumentError(absl::StrCat("/proc/meminfo: bad value in \"", line, "\""));
    }
    *slot = kb * 1024;
  }
  if (!total || !mem_free) {
    return absl::InvalidArgumentError("/proc/meminfo: MemTotal or MemFree missing");
  }
  MemInfo info;
  info.total_bytes = *total;
  info.available_bytes =
      available ? *available : *mem_free + buffers.value_or(0) + cached.value_or(0);
  return info;
}

absl::StatusOr<double> ParseLoadavg(std::string_view text) {
  // "0.52 0.58 0.59 1/467 12345"
  std::vector<absl::string_view> f = Fields(AsAbsl(text));
  double load = 0;
  if (f.empty() || !absl::SimpleAtod(f[0], &load) || load < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("/proc/loadavg: malformed \"", AsAbsl(text), "\""));
  }
  return load;
}

absl::StatusOr<MachineMetrics> MetricsSampler::Sample() {
  HERA_ASSIGN_OR_RETURN(std::string stat_text, ReadFile(proc_root_ + "/stat"));
  HERA_ASSIGN_OR_RETURN(std::string loadavg_text, ReadFile(proc_root_ + "/loadavg"));
  HERA_ASSIGN_OR_RETURN(std::string meminfo_text, ReadFile(proc_root_ + "/meminfo"));
  HERA_ASSIGN_OR_RETURN(CpuTimes cpu, ParseProcStat(stat_text));
  HERA_ASSIGN_OR_RETURN(double load, ParseLoadavg(loadavg_text));
  HERA_ASSIGN_OR_RETURN(MemInfo mem, ParseMeminfo(meminfo_text));

  struct statvfs fs;
  if (::statvfs(work_dir_.c_str(), &fs) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("statvfs ", work_dir_));
  }

  MachineMetrics m;
  m.cpus = cpu.cpus;
  m.cpu_percent = CpuPercent(previous_, cpu);
  // A /proc/stat without cpuN lines (a stripped-down test fixture, say) counts as one cpu.
  m.load_per_core = load / std::max(1, cpu.cpus);
  m.memory_total_bytes = mem.total_bytes;
  m.memory_used_bytes = std::max<int64_t>(0, mem.total_bytes - mem.available_bytes);
  // f_bavail, not f_bfree: jobs do not run as root, so the root reserve is not theirs.
  m.disk_free_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  previous_ = cpu;
  return m;
}

}  // namespace hera::worker
