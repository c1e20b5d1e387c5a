#include "exec/outcome.h"

#include <signal.h>

#include "gtest/gtest.h"

namespace hera::exec {
namespace {

Outcome Make(std::variant<Exited, Signaled, SpawnFailed> how, bool timed_out = false,
             bool cancelled = false, absl::Duration timeout = absl::ZeroDuration(),
             std::string log_error = "") {
  Outcome outcome;
  outcome.how = std::move(how);
  outcome.timed_out = timed_out;
  outcome.cancelled = cancelled;
  outcome.timeout = timeout;
  outcome.log_error = std::move(log_error);
  return outcome;
}

TEST(OutcomeTest, Describe) {
  struct Row {
    Outcome outcome;
    std::string expected;
  };
  const Row rows[] = {
      {Make(Exited{0}), "exit code 0"},
      {Make(Exited{7}), "exit code 7"},
      {Make(Signaled{9}), "killed by signal 9"},
      {Make(Signaled{9}, /*timed_out=*/true, false, absl::Seconds(30)),
       "killed by signal 9 (timeout after 30s)"},
      {Make(Exited{143}, false, /*cancelled=*/true), "exit code 143 (cancelled)"},
      {Make(SpawnFailed{"bash: not found in PATH"}), "failed to start: bash: not found in PATH"},
      {Make(Exited{0}, false, false, absl::ZeroDuration(), "disk full"),
       "exit code 0 [log: disk full]"},
  };
  for (const Row& row : rows) EXPECT_EQ(row.outcome.Describe(), row.expected);
}

TEST(OutcomeTest, Ok) {
  EXPECT_TRUE(Make(Exited{0}).ok());
  EXPECT_FALSE(Make(Exited{1}).ok());
  EXPECT_FALSE(Make(Signaled{SIGTERM}).ok());
  EXPECT_FALSE(Make(Exited{0}, /*timed_out=*/false, /*cancelled=*/true).ok());
  EXPECT_FALSE(Make(SpawnFailed{"x"}).ok());
}

TEST(OutcomeTest, FromWaitStatus) {
  // Encodings per <sys/wait.h> on Linux: exit code in bits 8-15, signal in bits 0-6.
  auto exited = FromWaitStatus(7 << 8);
  ASSERT_TRUE(std::holds_alternative<Exited>(exited));
  EXPECT_EQ(std::get<Exited>(exited).code, 7);
  auto signaled = FromWaitStatus(SIGKILL);
  ASSERT_TRUE(std::holds_alternative<Signaled>(signaled));
  EXPECT_EQ(std::get<Signaled>(signaled).signal, SIGKILL);
  auto dumped = FromWaitStatus(SIGSEGV | 0x80);
  ASSERT_TRUE(std::holds_alternative<Signaled>(dumped));
  EXPECT_EQ(std::get<Signaled>(dumped).signal, SIGSEGV);
}

}  // namespace
}  // namespace hera::exec
