#pragma once
// The runs a worker agent holds in its JobRunner (running or waiting for a slot), with what the
// protocol needs to know about each: the term it was dispatched under, whether the master has
// been told it started, how much log it has produced, and the external jobs its log announced.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exec/external_jobs.h"

namespace hera::worker {

struct HeldRun {
  int64_t run_id = 0;
  uint64_t term = 0;  // of the Dispatch that gave it
  std::string work_dir;
  bool started = false;    // its process was spawned
  bool announced = false;  // a master was told it started (RunStarted, or Register.started)
  pid_t pid = 0;
  absl::Time started_at = absl::UnixEpoch();
  int64_t produced = 0;  // log bytes the runner has produced (and written to output.log)
};

// Thread-safe: the runner's thread reports starts and output, the connection thread adds and
// abandons runs, the session writer reads snapshots.
class HeldRuns {
 public:
  // Starts holding run `run_id` (no longer abandoned, if it was); false (and nothing changes)
  // if it is already held.
  bool Add(int64_t run_id, uint64_t term, std::string work_dir);
  // Forgets the run; returns what was held, or nullopt if it was not.
  std::optional<HeldRun> Remove(int64_t run_id);
  // The run, or nullopt if it is not held.
  std::optional<HeldRun> Get(int64_t run_id) const;
  bool Contains(int64_t run_id) const;
  // Every held run that was not abandoned, in run id order.
  std::vector<HeldRun> Snapshot() const;

  // Records that the run's process was spawned as `pid` at `at`.
  void MarkStarted(int64_t run_id, pid_t pid, absl::Time at);
  // Records that a master knows the run started (Register said so).
  void MarkAnnounced(int64_t run_id);
  // True if a RunStarted for the run should be sent now: it is not held (it already ended:
  // say it started before its result) or it started and was not announced; marks it announced.
  bool TakeAnnouncement(int64_t run_id);
  // Accounts the output at `offset` and scans it for external job ids. Returns false if the
  // run is unknown or abandoned (its output goes to no master).
  bool AddOutput(int64_t run_id, int64_t offset, std::string_view bytes);
  // The YARN applications and MapReduce jobs the run's log announced so far.
  std::vector<std::string> ExternalJobIds(int64_t run_id) const;

  // The master gave the run up: it is never reported again. Remembered after Remove(), since
  // its result may reach the outbox after the master said so.
  void Abandon(int64_t run_id);
  bool IsAbandoned(int64_t run_id) const;

 private:
  struct Entry {
    HeldRun run;
    exec::ExternalJobScanner scanner;
  };

  // Protected by mu_
  mutable absl::Mutex mu_;
  std::map<int64_t, Entry> runs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<int64_t> abandoned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hera::worker
