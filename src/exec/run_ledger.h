#pragma once
// A directory of small files that records which process groups a worker has running, so that
// after a crash (kill -9) the next worker can kill what the old one left behind.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hera::exec {

// One running job process group, as stored in <ledger_dir>/<run_id>.json.
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

// Writes and removes records in one directory. Stateless apart from the path: calls for
// different run ids may come from different threads.
class RunLedger {
 public:
  // `dir` must exist (JobRunner::Create makes it).
  explicit RunLedger(std::string dir) : dir_(std::move(dir)) {}

  // Writes <dir>/<run_id>.json atomically (temporary file + rename). Returns the IO error.
  absl::Status Record(const LedgerRecord& record) const;
  // Removes the record of `run_id`; OK if it does not exist.
  absl::Status Remove(int64_t run_id) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// After a crash of the worker process (kill -9), its children may still run. Sends SIGKILL to
// every process group recorded in `ledger_dir` whose leader is still the same process (same pid
// and /proc start time, so a reused pid is never killed), waits up to a few seconds for those
// groups to die, removes all records (and malformed or temporary files), and returns the run ids
// of all records found, killed or not, sorted. A missing directory yields an empty list.
// Call it before starting a JobRunner on the same directory. Limitation: members of a group
// whose leader already exited are not killed (the group can no longer be identified safely).
std::vector<int64_t> KillLeftovers(const std::string& ledger_dir);

}  // namespace hera::exec
