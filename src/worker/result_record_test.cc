#include "worker/result_record.h"

#include <signal.h>

#include "gtest/gtest.h"

namespace hera::worker {
namespace {

const absl::Time kEnd = absl::FromUnixMicros(1700000000123456);

exec::Outcome Outcome(std::variant<exec::Exited, exec::Signaled, exec::SpawnFailed> how,
                      bool timed_out = false, bool cancelled = false) {
  exec::Outcome outcome;
  outcome.how = std::move(how);
  outcome.timed_out = timed_out;
  outcome.cancelled = cancelled;
  return outcome;
}

// Every kind of ending survives the outbox unchanged (what is re-sent after a restart is what
// was first sent), with the status word an operator reading the outbox would expect.
TEST(ResultRecordTest, RoundTripsEveryEnding) {
  struct Case {
    exec::Outcome outcome;
    const char* status;
  };
  const Case cases[] = {
      {Outcome(exec::Exited{0}), "success"},
      {Outcome(exec::Exited{3}), "failed"},
      {Outcome(exec::Signaled{SIGKILL}), "failed"},
      {Outcome(exec::Signaled{SIGTERM}, /*timed_out=*/true), "timed_out"},
      {Outcome(exec::Exited{143}, false, /*cancelled=*/true), "cancelled"},
      {Outcome(exec::SpawnFailed{"cancelled before start"}, false, true), "cancelled"},
      {Outcome(exec::SpawnFailed{"bash: not found in PATH"}), "error"},
  };
  for (const Case& c : cases) {
    const core::RunResult result = ResultOf(7, c.outcome, kEnd);
    const ResultRecord record = ToRecord(result, 3, 42);
    EXPECT_EQ(record.status, c.status) << c.outcome.Describe();
    EXPECT_EQ(record.term, 3);
    EXPECT_EQ(record.log_bytes, 42);
    const core::RunResult back = ToRunResult(record);
    EXPECT_EQ(back.run_id, 7);
    EXPECT_EQ(back.exit_code, result.exit_code) << c.outcome.Describe();
    EXPECT_EQ(back.signal, result.signal) << c.outcome.Describe();
    EXPECT_EQ(back.timed_out, result.timed_out);
    EXPECT_EQ(back.cancelled, result.cancelled);
    EXPECT_EQ(back.error, result.error);
    EXPECT_EQ(back.ended_at, kEnd);
  }
}

TEST(ResultRecordTest, CancelledBeforeStartIsNoError) {
  const core::RunResult result =
      ResultOf(1, Outcome(exec::SpawnFailed{"cancelled before start"}, false, true), kEnd);
  EXPECT_TRUE(result.cancelled);
  EXPECT_TRUE(result.error.empty());
  EXPECT_FALSE(result.exit_code.has_value());
}

TEST(ResultRecordTest, ALostRunKeepsItsReasonAndSignal) {
  // What a restarted worker reports for a run its predecessor left running.
  core::RunResult result;
  result.run_id = 9;
  result.signal = SIGKILL;
  result.lost = "worker restarted: the run's processes were killed";
  const ResultRecord record = ToRecord(result, 0, 0);
  EXPECT_EQ(record.status, "lost");
  const core::RunResult back = ToRunResult(record);
  EXPECT_EQ(back.signal, SIGKILL);
  EXPECT_EQ(back.lost, result.lost);
  EXPECT_TRUE(back.error.empty());
  EXPECT_FALSE(back.exit_code.has_value());
}

TEST(ResultRecordTest, AnErrorWithASignalKeepsBoth) {
  core::RunResult result;
  result.run_id = 9;
  result.signal = SIGKILL;
  result.error = "worker w1 refused it";
  const core::RunResult back = ToRunResult(ToRecord(result, 0, 0));
  EXPECT_EQ(back.signal, SIGKILL);
  EXPECT_EQ(back.error, result.error);
  EXPECT_FALSE(back.exit_code.has_value());
}

}  // namespace
}  // namespace hera::worker
