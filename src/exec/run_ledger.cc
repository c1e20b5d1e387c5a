#include "exec/run_ledger.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fd_io.h"
#include "common/strings.h"
#include "common/unique_fd.h"
#include "exec/proc_stat.h"

namespace hera::exec {
namespace {

constexpr absl::string_view kSuffix = ".json";
constexpr absl::string_view kTempSuffix = ".json.tmp";
// How long KillLeftovers waits for killed groups to disappear.
constexpr auto kLeftoverWait = std::chrono::seconds(5);

// Finds `"key":<integer>` and parses the integer.
template <typename T>
bool ParseField(absl::string_view json, absl::string_view key, T* out) {
  std::string needle = absl::StrCat("\"", key, "\":");
  size_t pos = json.find(needle);
  if (pos == absl::string_view::npos) return false;
  absl::string_view rest = json.substr(pos + needle.size());
  rest = absl::StripLeadingAsciiWhitespace(rest);
  size_t end = 0;
  while (end < rest.size() && (absl::ascii_isdigit(rest[end]) || (end == 0 && rest[0] == '-'))) {
    ++end;
  }
  return absl::SimpleAtoi(rest.substr(0, end), out);
}

std::optional<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string data;
  char buf[512];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0 ? std::optional<std::string>(data) : std::nullopt;
    data.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

std::string FormatLedgerRecord(const LedgerRecord& r) {
  return absl::StrCat("{\"run_id\":", r.run_id, ",\"pid\":", r.pid, ",\"pgid\":", r.pgid,
                      ",\"start_time\":", r.start_time, "}\n");
}

absl::StatusOr<LedgerRecord> ParseLedgerRecord(std::string_view json_std) {
  absl::string_view json = AsAbsl(json_std);
  LedgerRecord r;
  // pgid == pid always holds for groups we spawn; insisting on it (and pid > 1) means a
  // corrupt record can never turn into kill(-1), i.e. "every process we may signal".
  if (!ParseField(json, "run_id", &r.run_id) || !ParseField(json, "pid", &r.pid) ||
      !ParseField(json, "pgid", &r.pgid) || !ParseField(json, "start_time", &r.start_time) ||
      r.pid <= 1 || r.pgid != r.pid) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ledger record: ", json));
  }
  return r;
}

absl::Status RunLedger::Record(const LedgerRecord& record) const {
  std::string path = absl::StrCat(dir_, "/", record.run_id, kSuffix);
  std::string temp = absl::StrCat(dir_, "/", record.run_id, kTempSuffix);
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("create ", temp));
  absl::Status status = WriteAll(fd.get(), FormatLedgerRecord(record));
  // No fsync: the record only has to survive a crash of the worker process, not of the host
  // (a host crash takes the job processes with it).
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) < 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("rename to ", path));
  }
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

absl::Status RunLedger::Remove(int64_t run_id) const {
  std::string path = absl::StrCat(dir_, "/", run_id, kSuffix);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("remove ", path));
  }
  return absl::OkStatus();
}

std::vector<int64_t> KillLeftovers(const std::string& ledger_dir) {
  std::vector<int64_t> run_ids;
  std::vector<pid_t> killed_groups;
  DIR* dir = ::opendir(ledger_dir.c_str());
  if (dir == nullptr) return run_ids;
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) names.emplace_back(entry->d_name);
  ::closedir(dir);

  for (const std::string& name : names) {
    std::string path = absl::StrCat(ledger_dir, "/", name);
    if (absl::EndsWith(name, kTempSuffix)) {  // A crash while writing: the spawn was recorded
      ::unlink(path.c_str());                 // nowhere else, nothing to report.
      continue;
    }
    absl::string_view stem = name;
    int64_t run_id = 0;
    if (!absl::ConsumeSuffix(&stem, kSuffix) || !absl::SimpleAtoi(stem, &run_id)) continue;
    run_ids.push_back(run_id);
    std::optional<std::string> data = ReadFile(path);
    absl::StatusOr<LedgerRecord> record =
        data ? ParseLedgerRecord(*data) : absl::NotFoundError("unreadable");
    if (record.ok()) {
      std::optional<ProcStat> stat = ReadProcStat(record->pid);
      // Same pid and same start time: the very process we spawned (possibly a zombie whose
      // group still has members). Its pid is in use, so the pgid cannot name another group.
      if (stat && stat->start_time == record->start_time && ::kill(-record->pgid, SIGKILL) == 0) {
        killed_groups.push_back(record->pgid);
      }
    }
    ::unlink(path.c_str());
  }

  // SIGKILL is asynchronous; give the groups a moment to be gone before the caller reuses
  // their work directories.
  auto deadline = std::chrono::steady_clock::now() + kLeftoverWait;
  for (pid_t pgid : killed_groups) {
    while (GroupHasLiveMembers(pgid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::sort(run_ids.begin(), run_ids.end());
  return run_ids;
}

}  // namespace hera::exec
