#pragma once
// A guard process for a worker: when the worker dies, even by kill -9, its jobs die with it.
// Job processes live in their own process groups, so they would outlive a killed worker and run
// on unseen while the master, after the grace period, retries them on another worker: the same
// run twice at once. The guard closes that gap without any per-run cost.

#include <string>

#include "absl/status/status.h"

namespace hera::exec {

// Forks a small process (its own process group, so a terminal's Ctrl-C does not take it first)
// that waits on a pipe only this process holds. When the pipe closes — this process exited or
// was killed — the guard SIGKILLs every process group recorded in `ledger_dir` (KillRecorded)
// and exits. Call once, early, while the process has a single thread (it forks).
absl::Status StartLedgerGuard(const std::string& ledger_dir);

}  // namespace hera::exec
