#include "exec/run_ledger.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <chrono>

#include "exec/child_process.h"
#include "exec/ledger_guard.h"
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

RunLedger OpenLedger(const std::string& dir) {
  absl::StatusOr<RunLedger> ledger = RunLedger::Open(dir);
  EXPECT_TRUE(ledger.ok()) << ledger.status();
  return *std::move(ledger);
}

std::string ReadLedgerFile(const TempDir& dir) {
  std::ifstream in(dir.Sub("ledger.log"));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(RunLedgerTest, RecordAndRemoveAppendToOneFile) {
  TempDir tmp;
  RunLedger ledger = OpenLedger(tmp.path());
  ASSERT_TRUE(ledger.Record({.run_id = 7, .pid = 100, .pgid = 100, .start_time = 5}).ok());
  EXPECT_EQ(ReadLedgerFile(tmp),
            "+{\"run_id\":7,\"pid\":100,\"pgid\":100,\"start_time\":5}\n");
  EXPECT_TRUE(ledger.Remove(7).ok());
  EXPECT_TRUE(ledger.Remove(7).ok());  // Unknown ids append nothing.
  EXPECT_EQ(ReadLedgerFile(tmp),
            "+{\"run_id\":7,\"pid\":100,\"pgid\":100,\"start_time\":5}\n-7\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(RunLedgerTest, RewritesTheFileKeepingLiveRecords) {
  TempDir tmp;
  RunLedger ledger = OpenLedger(tmp.path());
  // Pids that cannot exist: KillLeftovers reports them without killing anything.
  ASSERT_TRUE(ledger.Record({.run_id = 1, .pid = 999999991, .pgid = 999999991, .start_time = 1})
                  .ok());
  for (int64_t id = 2; id < 5000; ++id) {
    ASSERT_TRUE(ledger.Record({.run_id = id, .pid = 999999992, .pgid = 999999992,
                               .start_time = 1}).ok());
    ASSERT_TRUE(ledger.Remove(id).ok());
  }
  ASSERT_TRUE(ledger.Record({.run_id = 5000, .pid = 999999993, .pgid = 999999993,
                             .start_time = 1}).ok());
  // 5,000 records and removals would be ~400 KiB; rewrites keep it near the threshold.
  EXPECT_LT(std::filesystem::file_size(tmp.Sub("ledger.log")), 100u * 1024);
  EXPECT_EQ(KillLeftovers(tmp.path()), (std::vector<int64_t>{1, 5000}));
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

TEST(RunLedgerTest, ReopenKeepsAppending) {
  TempDir tmp;
  {
    RunLedger ledger = OpenLedger(tmp.path());
    ASSERT_TRUE(ledger.Record({.run_id = 3, .pid = 999999994, .pgid = 999999994,
                               .start_time = 1}).ok());
  }
  RunLedger ledger = OpenLedger(tmp.path());
  ASSERT_TRUE(ledger.Record({.run_id = 4, .pid = 999999995, .pgid = 999999995,
                             .start_time = 1}).ok());
  EXPECT_EQ(KillLeftovers(tmp.path()), (std::vector<int64_t>{3, 4}));
}

// keep_records: the leftovers stay in the file, and a reopened ledger carries them (rewrites
// included) until each is removed; another crash before that finds them again.
TEST(RunLedgerTest, KeptLeftoversStayUntilRemoved) {
  TempDir tmp;
  {
    RunLedger ledger = OpenLedger(tmp.path());
    ASSERT_TRUE(ledger.Record({.run_id = 8, .pid = 999999981, .pgid = 999999981,
                               .start_time = 1}).ok());
    ASSERT_TRUE(ledger.Record({.run_id = 9, .pid = 999999982, .pgid = 999999982,
                               .start_time = 1}).ok());
  }
  EXPECT_EQ(KillLeftovers(tmp.path(), /*keep_records=*/true), (std::vector<int64_t>{8, 9}));
  {
    RunLedger ledger = OpenLedger(tmp.path());
    // Many runs come and go: the rewrites must keep 8 and 9.
    for (int64_t id = 100; id < 3000; ++id) {
      ASSERT_TRUE(ledger.Record({.run_id = id, .pid = 999999983, .pgid = 999999983,
                                 .start_time = 1}).ok());
      ASSERT_TRUE(ledger.Remove(id).ok());
    }
    EXPECT_EQ(KillLeftovers(tmp.path(), /*keep_records=*/true), (std::vector<int64_t>{8, 9}));
    ASSERT_TRUE(ledger.Remove(8).ok());
  }
  EXPECT_EQ(KillLeftovers(tmp.path()), (std::vector<int64_t>{9}));
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
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
  RunLedger ledger = OpenLedger(ledger_dir_.path());
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
  RunLedger ledger = OpenLedger(ledger_dir_.path());
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

TEST_F(KillLeftoversTest, SkipsTornLinesAndRemovesTheFiles) {
  {
    std::ofstream(ledger_dir_.Sub("ledger.log"))
        << "+garbage\n-x\n"
        << "+{\"run_id\":15,\"pid\":999999999,\"pgid\":999999999,\"start_time\":1}\n"
        << "+{\"run_id\":16,\"pid\":999999998,\"pgid\":999999998,\"start_time\":1}\n"
        << "-16\n+{\"run_id\":14";  // The crash came in the middle of this append.
  }
  { std::ofstream(ledger_dir_.Sub("ledger.log.tmp")) << "+{\"run_id\":14"; }
  EXPECT_EQ(KillLeftovers(ledger_dir_.path()), (std::vector<int64_t>{15}));
  EXPECT_TRUE(std::filesystem::is_empty(ledger_dir_.path()));
}

// SpawnedGroupHasLiveMembers reads only the pids allocated since the leader; it must agree with
// the full /proc scan while a member outlives the leader and after it is gone.
TEST_F(KillLeftoversTest, SpawnedGroupScanAgreesWithFullScan) {
  ChildProcess child = Spawn("sleep 300 & exit 0");
  // Wait for the leader to exit (a zombie: not reaped, so its pgid stays ours).
  for (int i = 0; i < 500; ++i) {
    std::optional<ProcStat> stat = ReadProcStat(child.pid());
    if (stat && stat->state == 'Z') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(GroupHasLiveMembers(child.pgid(), child.pid()));
  EXPECT_TRUE(SpawnedGroupHasLiveMembers(child.pid()));
  ASSERT_TRUE(child.SignalGroup(SIGKILL).ok());
  for (int i = 0; i < 500 && GroupHasLiveMembers(child.pgid(), child.pid()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(GroupHasLiveMembers(child.pgid(), child.pid()));
  EXPECT_FALSE(SpawnedGroupHasLiveMembers(child.pid()));
}

// Leaders of other runs, spawned after this one, are skipped, not mistaken for members; a real
// member among them is still found.
TEST_F(KillLeftoversTest, SpawnedGroupScanSkipsOtherLeaders) {
  ChildProcess child = Spawn("sleep 300 & exit 0");
  ChildProcess other = Spawn("exec sleep 300");
  for (int i = 0; i < 500; ++i) {
    std::optional<ProcStat> stat = ReadProcStat(child.pid());
    if (stat && stat->state == 'Z') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const absl::flat_hash_set<pid_t> leaders = {child.pid(), other.pid()};
  EXPECT_TRUE(SpawnedGroupHasLiveMembers(child.pid(), leaders));
  ASSERT_TRUE(child.SignalGroup(SIGKILL).ok());
  for (int i = 0; i < 500 && GroupHasLiveMembers(child.pgid(), child.pid()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(SpawnedGroupHasLiveMembers(child.pid(), leaders));
  EXPECT_FALSE(SpawnedGroupHasLiveMembers(child.pid()));
}

// A worker killed with SIGKILL takes its jobs with it through the guard: the job's whole group
// dies, not only its leader.
TEST_F(KillLeftoversTest, GuardKillsRecordedGroupsWhenTheWorkerDies) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t worker = ::fork();
  ASSERT_GE(worker, 0);
  if (worker == 0) {  // the pseudo-worker: guard, one job (a group of two sleeps), then wait
    ::close(report[0]);
    if (!StartLedgerGuard(ledger_dir_.path()).ok()) ::_exit(1);
    absl::StatusOr<RunLedger> ledger = RunLedger::Open(ledger_dir_.path());
    if (!ledger.ok()) ::_exit(2);
    UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    absl::StatusOr<ChildProcess> job = ChildProcess::Spawn(
        {"sh", "-c", "sleep 300 & sleep 300"}, CurrentEnvironment(), "/", devnull.get());
    if (!job.ok()) ::_exit(3);
    std::optional<ProcStat> stat = ReadProcStat(job->pid());
    if (!stat || !ledger->Record({.run_id = 1, .pid = job->pid(), .pgid = job->pgid(),
                                  .start_time = stat->start_time}).ok()) {
      ::_exit(4);
    }
    const pid_t pgid = job->pgid();
    (void)!::write(report[1], &pgid, sizeof pgid);
    for (;;) ::pause();
  }
  ::close(report[1]);
  pid_t pgid = 0;
  ASSERT_EQ(::read(report[0], &pgid, sizeof pgid), static_cast<ssize_t>(sizeof pgid));
  ::close(report[0]);
  EXPECT_TRUE(GroupHasLiveMembers(pgid));
  ::kill(worker, SIGKILL);
  int status;
  ASSERT_EQ(::waitpid(worker, &status, 0), worker);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = !GroupHasLiveMembers(pgid);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "the dead worker's job group " << pgid << " still runs";
  // The records stay for the next worker's KillLeftovers, which reports them.
  EXPECT_EQ(KillLeftovers(ledger_dir_.path()), std::vector<int64_t>{1});
}

TEST_F(KillLeftoversTest, MissingDirectoryIsEmpty) {
  EXPECT_TRUE(KillLeftovers(ledger_dir_.Sub("does-not-exist")).empty());
}

}  // namespace
}  // namespace hera::exec
