#pragma once
// How a run's result travels: the runner's Outcome becomes a core::RunResult, which is kept in
// the outbox as a ResultRecord until the master acknowledges it (DESIGN §2). The record keeps
// every field of the RunResult, so what is re-sent after a restart is what was first sent.

#include <cstdint>

#include "absl/time/time.h"
#include "core/ports.h"
#include "exec/outcome.h"
#include "worker/result_outbox.h"

namespace hera::worker {

// The RunResult of run `run_id` that ended with `outcome`: at outcome.ended_at when the runner
// set it, else at `ended_at`. A run cancelled before it was spawned is just cancelled (no
// error); any other failed spawn carries its error.
core::RunResult ResultOf(int64_t run_id, const exec::Outcome& outcome, absl::Time ended_at);

// The outbox record of `result`, of a run dispatched under `term` whose log ended at
// `log_bytes`. ResultRecord::status is one of "success", "failed", "timed_out", "cancelled",
// "error" (not started: `reason` holds the error) and "lost" (started, then lost with the
// worker's process: `reason` says how); exit_code is -1 without an exit code.
ResultRecord ToRecord(const core::RunResult& result, int64_t term, int64_t log_bytes);
// The RunResult `record` holds (ToRecord's inverse).
core::RunResult ToRunResult(const ResultRecord& record);

}  // namespace hera::worker
