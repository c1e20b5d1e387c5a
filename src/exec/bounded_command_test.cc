#include "exec/bounded_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <thread>

#include "exec/run_setup.h"
#include "exec/test_util.h"

namespace hera::exec {
namespace {

using ::testing::HasSubstr;

class BoundedCommandTest : public ::testing::Test {
 protected:
  absl::StatusOr<CommandResult> Bash(const std::string& script, absl::Duration timeout,
                                     const std::atomic<bool>* cancel = nullptr,
                                     size_t max_output = 4096) {
    return RunBoundedCommand({"bash", "-c", script}, CurrentEnvironment(), tmp_.path(), timeout,
                             cancel, max_output);
  }
  testing::TempDir tmp_;
};

TEST_F(BoundedCommandTest, ReturnsTheExitStatusAndBothStreams) {
  auto r = Bash("echo out; echo err >&2; pwd; exit 3", absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(WIFEXITED(r->wait_status));
  EXPECT_EQ(WEXITSTATUS(r->wait_status), 3);
  EXPECT_THAT(r->output, HasSubstr("out\n"));
  EXPECT_THAT(r->output, HasSubstr("err\n"));
  EXPECT_THAT(r->output, HasSubstr(tmp_.path())) << "it runs in cwd";
}

TEST_F(BoundedCommandTest, KeepsOnlyTheTailOfLongOutput) {
  auto r = Bash("for i in $(seq 1 20000); do echo line$i; done; echo LAST", absl::Seconds(30),
                nullptr, 64);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LE(r->output.size(), 64u);
  EXPECT_THAT(r->output, ::testing::EndsWith("line20000\nLAST\n"));
}

TEST_F(BoundedCommandTest, AHelperLeftBehindDoesNotHoldItUp) {
  const absl::Time start = absl::Now();
  auto r = Bash("sleep 60 & echo started", absl::Seconds(30));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_THAT(r->output, HasSubstr("started"));
}

TEST_F(BoundedCommandTest, TimeoutAndCancelKillTheGroup) {
  auto r = Bash("sleep 60", absl::Milliseconds(200));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("still running after 200ms, killed"));

  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(200));
    cancel.store(true);
  });
  r = Bash("sleep 60", absl::Minutes(5), &cancel);
  canceller.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(BoundedCommandTest, AMissingProgramIsASpawnError) {
  auto r = RunBoundedCommand({"no-such-program-hera"}, CurrentEnvironment(), tmp_.path(),
                             absl::Seconds(5), nullptr);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace hera::exec
