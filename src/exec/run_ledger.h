#pragma once
// A directory of small files that records which process groups a worker has running, so that
// after a crash (kill -9) the next worker can kill what the old one left behind.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace hera::exec {

// One running job process group, as recorded in the ledger file.
struct LedgerRecord {
  int64_t run_id = 0;
  pid_t pid = 0;            // The group leader (the process we spawned).
  pid_t pgid = 0;           // Equal to pid for groups we spawn.
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22: tells a reused pid apart.
};

// Returns the record as one line of JSON.
std::string FormatLedgerRecord(const LedgerRecord& record);
// Parses FormatLedgerRecord's output; InvalidArgument if a field is missing or malformed.
absl::StatusOr<LedgerRecord> ParseLedgerRecord(std::string_view json);

// The ledger file <dir>/ledger.log: a line "+<record>" when a group is spawned and "-<run_id>"
// when it has been reaped. One append per event (no file per run: creating and deleting an inode
// per run was a large share of a short run's cost), rewritten with only the live records when
// it grows. Not thread-safe: JobRunner uses it from its loop thread only.
class RunLedger {
 public:
  // Opens (creating) <dir>/ledger.log for appending; `dir` must exist. Records already in the
  // file (KillLeftovers should have dealt with their processes) stay live until removed.
  static absl::StatusOr<RunLedger> Open(std::string dir);

  // Appends the record of a spawned group. Returns the IO error.
  absl::Status Record(const LedgerRecord& record);
  // Appends the removal of `run_id`'s record; rewrites the file when removals dominate it.
  absl::Status Remove(int64_t run_id);
  const std::string& dir() const { return dir_; }

 private:
  RunLedger(std::string dir, UniqueFd fd) : dir_(std::move(dir)), fd_(std::move(fd)) {}
  absl::Status Append(std::string_view line);
  absl::Status Rewrite();

  std::string dir_;
  UniqueFd fd_;
  std::map<int64_t, LedgerRecord> live_;
  int64_t file_bytes_ = 0;
};

// After a crash of the worker process (kill -9), its children may still run. Sends SIGKILL to
// every process group recorded live in `ledger_dir`'s ledger file whose leader is still the same
// process (same pid and /proc start time, so a reused pid is never killed), waits up to a few
// seconds for those groups to die, removes the ledger file, and returns the run ids of all live
// records found, killed or not, sorted (a malformed line is skipped). A missing directory or
// file yields an empty list. Call it before opening a RunLedger on the same directory.
// With `keep_records` the file stays, and the next RunLedger carries its records until each is
// removed: for a caller that must first store what became of those runs, so that a crash before
// then finds them again.
// Limitation: members of a group whose leader already exited are not killed (the group can no
// longer be identified safely).
std::vector<int64_t> KillLeftovers(const std::string& ledger_dir, bool keep_records = false);

// KillLeftovers without removing the ledger file or waiting: what a guard does the moment its
// worker died (the next worker's KillLeftovers still finds, and removes, the records).
void KillRecorded(const std::string& ledger_dir);

}  // namespace hera::exec
