#include "worker/result_record.h"

#include <variant>

namespace hera::worker {
namespace {

// Exit codes are 0-255, so -1 marks a record whose process never exited (killed by a signal,
// or never started).
constexpr int kNoExitCode = -1;

}  // namespace

core::RunResult ResultOf(int64_t run_id, const exec::Outcome& outcome, absl::Time ended_at) {
  core::RunResult result;
  result.run_id = run_id;
  result.ended_at = outcome.ended_at.value_or(ended_at);
  result.timed_out = outcome.timed_out;
  result.cancelled = outcome.cancelled;
  if (const auto* exited = std::get_if<exec::Exited>(&outcome.how)) {
    result.exit_code = exited->code;
  } else if (const auto* signaled = std::get_if<exec::Signaled>(&outcome.how)) {
    result.signal = signaled->signal;
  } else if (const auto* failed = std::get_if<exec::SpawnFailed>(&outcome.how);
             failed && !outcome.cancelled) {
    result.error = failed->error;
  }
  return result;
}

ResultRecord ToRecord(const core::RunResult& result, int64_t term, int64_t log_bytes) {
  ResultRecord record;
  record.run_id = result.run_id;
  record.term = term;
  record.exit_code = result.exit_code.value_or(kNoExitCode);
  record.signal = result.signal.value_or(0);
  if (!result.lost.empty()) {
    record.status = "lost";
    record.reason = result.lost;
  } else if (!result.error.empty()) {
    record.status = "error";
    record.reason = result.error;
  } else if (result.cancelled) {
    record.status = "cancelled";
  } else if (result.timed_out) {
    record.status = "timed_out";
  } else if (result.exit_code == 0) {
    record.status = "success";
  } else {
    record.status = "failed";
  }
  record.log_bytes = log_bytes;
  record.ended_at = result.ended_at;
  return record;
}

core::RunResult ToRunResult(const ResultRecord& record) {
  core::RunResult result;
  result.run_id = record.run_id;
  if (record.exit_code != kNoExitCode) result.exit_code = record.exit_code;
  if (record.signal != 0) result.signal = record.signal;
  result.cancelled = record.status == "cancelled";
  result.timed_out = record.status == "timed_out";
  if (record.status == "error") result.error = record.reason;
  if (record.status == "lost") result.lost = record.reason;
  result.ended_at = record.ended_at;
  return result;
}

}  // namespace hera::worker
