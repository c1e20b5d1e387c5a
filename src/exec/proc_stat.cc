#include "exec/proc_stat.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"

namespace hera::exec {
namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string data;
  char buf[1024];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

// The last pid allocated in this pid namespace. The file stays open: each read asks anew.
std::optional<pid_t> LastPid() {
  static const int fd = ::open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[32];
  ssize_t n;
  while ((n = ::pread(fd, buf, sizeof(buf), 0)) < 0 && errno == EINTR) {
  }
  pid_t last = 0;
  if (n <= 0 || !absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::string_view(buf, n)), &last)) {
    return std::nullopt;
  }
  return last;
}

}  // namespace

uint64_t BootTicksNow() {
  static const int64_t ns_per_tick = 1'000'000'000 / std::max<long>(1, ::sysconf(_SC_CLK_TCK));
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  return static_cast<uint64_t>((int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec) / ns_per_tick);
}

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::optional<std::string> data = ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!data) return std::nullopt;
  // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so the fields
  // start after the LAST ')'.
  size_t close = data->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*data).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  ProcStat stat;
  stat.state = fields[0][0];
  if (!absl::SimpleAtoi(fields[5 - 3], &stat.pgrp) ||
      !absl::SimpleAtoi(fields[22 - 3], &stat.start_time)) {
    return std::nullopt;
  }
  return stat;
}

bool GroupHasLiveMembers(pid_t pgid, pid_t except) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return false;
  bool found = false;
  while (const dirent* entry = ::readdir(dir)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == except) continue;
    std::optional<ProcStat> stat = ReadProcStat(pid);
    if (stat && stat->pgrp == pgid && stat->state != 'Z' && stat->state != 'X') {
      found = true;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

bool SpawnedGroupHasLiveMembers(pid_t leader, const absl::flat_hash_set<pid_t>& other_leaders) {
  // Larger ranges are scanned through the /proc listing: reading absent pids costs an open each.
  constexpr pid_t kMaxProbes = 256;
  std::optional<pid_t> last = LastPid();
  if (!last || *last < leader || *last - leader > kMaxProbes) {
    return GroupHasLiveMembers(leader, leader);
  }
  for (pid_t pid = leader + 1; pid <= *last; ++pid) {
    if (other_leaders.contains(pid)) continue;
    std::optional<ProcStat> stat = ReadProcStat(pid);  // Thread ids read as their process.
    if (stat && stat->pgrp == leader && stat->state != 'Z' && stat->state != 'X') return true;
  }
  return false;
}

}  // namespace hera::exec
