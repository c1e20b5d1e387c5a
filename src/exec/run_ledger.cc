#include "exec/run_ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fd_io.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/unique_fd.h"
#include "exec/proc_stat.h"

namespace hera::exec {
namespace {

constexpr absl::string_view kLedgerName = "ledger.log";
// Rough size of one "+record" line, and the size below which the file is never rewritten.
constexpr int64_t kRecordBytes = 80;
constexpr int64_t kRewriteMinBytes = 64 * 1024;
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

namespace {

// The records added and not removed since, replaying the ledger file's text. A malformed "+"
// line is a torn append from a crash: its spawn was never reported.
std::map<int64_t, LedgerRecord> LiveRecords(absl::string_view data) {
  std::map<int64_t, LedgerRecord> live;
  for (absl::string_view line : absl::StrSplit(data, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "+")) {
      absl::StatusOr<LedgerRecord> record = ParseLedgerRecord(AsStd(line));
      if (record.ok()) live[record->run_id] = *record;
    } else if (int64_t run_id = 0; absl::ConsumePrefix(&line, "-") &&
                                   absl::SimpleAtoi(line, &run_id)) {
      live.erase(run_id);
    }
  }
  return live;
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

absl::StatusOr<RunLedger> RunLedger::Open(std::string dir) {
  std::string path = absl::StrCat(dir, "/", kLedgerName);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  RunLedger ledger(std::move(dir), std::move(fd));
  struct stat st;
  if (::fstat(ledger.fd_.get(), &st) == 0) ledger.file_bytes_ = st.st_size;
  // Records left by KillLeftovers(keep_records) stay live until removed, rewrites included.
  if (ledger.file_bytes_ > 0) {
    if (std::optional<std::string> data = ReadFile(path)) ledger.live_ = LiveRecords(*data);
  }
  return ledger;
}

absl::Status RunLedger::Append(std::string_view line) {
  // No fsync: the ledger only has to survive a crash of the worker process, not of the host
  // (a host crash takes the job processes with it). O_APPEND keeps each line whole.
  absl::Status status = WriteAll(fd_.get(), line);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(dir_, "/", kLedgerName, ": ", status.message()));
  }
  file_bytes_ += static_cast<int64_t>(line.size());
  return absl::OkStatus();
}

absl::Status RunLedger::Record(const LedgerRecord& record) {
  HERA_RETURN_IF_ERROR(Append(absl::StrCat("+", FormatLedgerRecord(record))));
  live_[record.run_id] = record;
  return absl::OkStatus();
}

absl::Status RunLedger::Remove(int64_t run_id) {
  if (live_.erase(run_id) == 0) return absl::OkStatus();
  HERA_RETURN_IF_ERROR(Append(absl::StrCat("-", run_id, "\n")));
  // Rewriting costs one line per live record; doing it only when the file is many times larger
  // than that keeps the cost per run constant.
  if (file_bytes_ > kRewriteMinBytes &&
      file_bytes_ > 8 * kRecordBytes * static_cast<int64_t>(live_.size() + 1)) {
    return Rewrite();
  }
  return absl::OkStatus();
}

absl::Status RunLedger::Rewrite() {
  std::string path = absl::StrCat(dir_, "/", kLedgerName);
  std::string temp = absl::StrCat(path, ".tmp");
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("create ", temp));
  std::string data;
  for (const auto& [id, record] : live_) absl::StrAppend(&data, "+", FormatLedgerRecord(record));
  absl::Status status = WriteAll(fd.get(), data);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) < 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("rename to ", path));
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;  // The old file is intact and still appended to.
  }
  fd_ = std::move(fd);
  file_bytes_ = static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

namespace {

// Replays the ledger file at `path` and SIGKILLs every live recorded group whose leader
// is still the process we spawned. Returns the live records' run ids and the groups killed.
std::pair<std::vector<int64_t>, std::vector<pid_t>> KillLive(const std::string& path) {
  std::vector<int64_t> run_ids;
  std::vector<pid_t> killed_groups;
  std::optional<std::string> data = ReadFile(path);
  if (!data) return {run_ids, killed_groups};
  for (const auto& [run_id, record] : LiveRecords(*data)) {
    run_ids.push_back(run_id);
    std::optional<ProcStat> stat = ReadProcStat(record.pid);
    // Same pid and same start time: the very process we spawned (possibly a zombie whose
    // group still has members). Its pid is in use, so the pgid cannot name another group.
    if (stat && stat->start_time == record.start_time && ::kill(-record.pgid, SIGKILL) == 0) {
      killed_groups.push_back(record.pgid);
    }
  }
  return {run_ids, killed_groups};
}

}  // namespace

void KillRecorded(const std::string& ledger_dir) {
  (void)KillLive(absl::StrCat(ledger_dir, "/", kLedgerName));
}

std::vector<int64_t> KillLeftovers(const std::string& ledger_dir, bool keep_records) {
  std::string path = absl::StrCat(ledger_dir, "/", kLedgerName);
  ::unlink(absl::StrCat(path, ".tmp").c_str());  // A crash during a rewrite.
  auto [run_ids, killed_groups] = KillLive(path);
  if (!keep_records) ::unlink(path.c_str());

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
