#include "exec/run_ledger.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "exec/child_process.h"
#include "exec/proc_stat.h"
#include "exec/run_setup.h"
#include "exec/test_util.h"
#include "gtest/gtest.h"

namespace hera::exec {
namespace {

using ::hera::exec::testing::TempDir;

TEST(LedgerRecordTest, RoundTrip) {
  LedgerRecord r{.run_id = 42, .pid = 1234, .pgid = 1234, .start_time = 987654321};
  absl::StatusOr<LedgerRecord> parsed = ParseLedgerRecord(FormatLedgerRecord(r));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->run_id, 42);
  EXPECT_EQ(parsed->pid, 1234);
  EXPECT_EQ(parsed->pgid, 1234);
  EXPECT_EQ(parsed->start_time, 987654321u);
}

TEST(LedgerRecordTest, RejectsRecordsThatCouldKillTheWrongGroup) {
  EXPECT_FALSE(ParseLedgerRecord("").ok());
  EXPECT_FALSE(ParseLedgerRecord("{\"run_id\":1,\"pid\":5}").ok());
  // kill(-1) would signal every process we may signal; pgid must be the recorded leader's pid.
  EXPECT_FALSE(ParseLedgerRecord("{\"run_id\":1,\"pid\":1,\"pgid\":1,\"start_time\":1}").ok());
  EXPECT_FALSE(ParseLedgerRecord("{\"run_id\":1,\"pid\":5,\"pgid\":6,\"start_time\":1}").ok());
  EXPECT_FALSE(ParseLedgerRecord("{\"run_id\":1,\"pid\":-5,\"pgid\":-5,\"start_time\":1}").ok());
}

TEST(RunLedgerTest, RecordAndRemove) {
  TempDir tmp;
  RunLedger ledger(tmp.path());
  ASSERT_TRUE(ledger.Record({.run_id = 7, .pid = 100, .pgid = 100, .start_time = 5}).ok());
  EXPECT_TRUE(std::filesystem::exists(tmp.Sub("7.json")));
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("7.json.tmp")));
  EXPECT_TRUE(ledger.Remove(7).ok());
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("7.json")));
  EXPECT_TRUE(ledger.Remove(7).ok());
}

class KillLeftoversTest : public ::testing::Test {
 protected:
  // Spawns `command` under sh as the leader of a new group, output to /dev/null.
  ChildProcess Spawn(const std::string& command) {
    UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(
        {"sh", "-c", command}, CurrentEnvironment(), tmp_.path(), devnull.get());
    EXPECT_TRUE(child.ok()) << child.status();
    return *std::move(child);
  }
  LedgerRecord RecordFor(int64_t run_id, const ChildProcess& child) {
    std::optional<ProcStat> stat = ReadProcStat(child.pid());
    EXPECT_TRUE(stat);
    return {.run_id = run_id,
            .pid = child.pid(),
            .pgid = child.pgid(),
            .start_time = stat ? stat->start_time : 0};
  }

  TempDir tmp_;
  TempDir ledger_dir_;
};

TEST_F(KillLeftoversTest, KillsRecordedGroup) {
  ChildProcess child = Spawn("sleep 300 & sleep 300");
  RunLedger ledger(ledger_dir_.path());
  ASSERT_TRUE(ledger.Record(RecordFor(11, child)).ok());

  EXPECT_EQ(KillLeftovers(ledger_dir_.path()), std::vector<int64_t>{11});

  absl::StatusOr<int> status = child.Reap();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
  EXPECT_FALSE(GroupHasLiveMembers(child.pgid()));
  EXPECT_TRUE(std::filesystem::is_empty(ledger_dir_.path()));
}

TEST_F(KillLeftoversTest, IgnoresRecordWhosePidBelongsToAnotherProcess) {
  ChildProcess child = Spawn("sleep 300");
  RunLedger ledger(ledger_dir_.path());
  // Same pid, different start time: the recorded process is gone and the pid was reused.
  LedgerRecord record = RecordFor(12, child);
  record.start_time += 1;
  ASSERT_TRUE(ledger.Record(record).ok());

  EXPECT_EQ(KillLeftovers(ledger_dir_.path()), std::vector<int64_t>{12});

  std::optional<ProcStat> stat = ReadProcStat(child.pid());
  ASSERT_TRUE(stat);
  EXPECT_NE(stat->state, 'Z') << "an unrelated process was killed";
  EXPECT_TRUE(std::filesystem::is_empty(ledger_dir_.path()));
}  // ~ChildProcess kills and reaps it.

TEST_F(KillLeftoversTest, RemovesMalformedAndTemporaryFiles) {
  { std::ofstream(ledger_dir_.Sub("13.json")) << "garbage"; }
  { std::ofstream(ledger_dir_.Sub("14.json.tmp")) << "{\"run_id\":14"; }
  {
    std::ofstream(ledger_dir_.Sub("15.json")) << "{\"run_id\":15,\"pid\":999999999,"
                                                 "\"pgid\":999999999,\"start_time\":1}";
  }
  EXPECT_EQ(KillLeftovers(ledger_dir_.path()), (std::vector<int64_t>{13, 15}));
  EXPECT_TRUE(std::filesystem::is_empty(ledger_dir_.path()));
}

TEST_F(KillLeftoversTest, MissingDirectoryIsEmpty) {
  EXPECT_TRUE(KillLeftovers(ledger_dir_.Sub("does-not-exist")).empty());
}

}  // namespace
}  // namespace hera::exec
