#pragma once
// Who a worker is across restarts: its id lives in its data directory, so the master can match
// a restarted worker to the runs it held (proto Register.worker_id), and one data directory is
// used by one worker process at a time.

#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace hera::worker {

// This machine's host name ("localhost" if gethostname fails).
std::string HostName();

// The worker id: `configured` if non-empty, else the one kept in <data_dir>/worker_id, else a
// new "<hostname>-<6 random hex digits>". A new or changed id is written there (atomically)
// for the next start. Returns the file's read or write error.
absl::StatusOr<std::string> LoadOrCreateWorkerId(const std::string& data_dir,
                                                 const std::string& configured);

// Holds an exclusive flock on <data_dir>/worker.lock for as long as the returned fd lives (the
// kernel drops it if the process dies). FailedPrecondition naming the holder's pid if another
// worker has it, else the failing call with the path.
absl::StatusOr<UniqueFd> LockWorkerDataDir(const std::string& data_dir);

}  // namespace hera::worker
