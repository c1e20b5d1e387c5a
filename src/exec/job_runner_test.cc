#include "exec/job_runner.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exec/proc_stat.h"
#include "exec/test_util.h"
#include "gtest/gtest.h"

namespace hera::exec {
namespace {

using ::hera::exec::testing::Command;
using ::hera::exec::testing::kWait;
using ::hera::exec::testing::RecordingListener;
using ::hera::exec::testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Alive(pid_t pid) {
  std::optional<ProcStat> stat = ReadProcStat(pid);
  return stat && stat->state != 'Z';
}

// Reads a pid a script wrote to `path`, waiting until the file has one.
std::optional<pid_t> ReadPidFile(const std::string& path) {
  for (absl::Time end = absl::Now() + kWait; absl::Now() < end;
       absl::SleepFor(absl::Milliseconds(10))) {
    pid_t pid;
    std::string text = ReadAll(path);
    if (absl::EndsWith(text, "\n") && absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid)) {
      return pid;
    }
  }
  return std::nullopt;
}

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { Create(JobRunnerOptions{}); }
  void TearDown() override {
    if (runner_) runner_->Shutdown();
    EXPECT_FALSE(listener_.concurrent_calls()) << "listener called concurrently";
  }

  void Create(JobRunnerOptions options) {
    if (runner_) runner_->Shutdown();
    absl::StatusOr<std::unique_ptr<JobRunner>> runner = JobRunner::Create(&listener_, options);
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = *std::move(runner);
  }

  // A bash script run in tmp_/run-<id>.
  RunSpec Bash(int64_t run_id, std::string script) {
    RunSpec spec = Command(run_id, {"bash", "script.sh"}, WorkDir(run_id));
    spec.script = std::move(script);
    spec.script_name = "script.sh";
    return spec;
  }
  std::string WorkDir(int64_t run_id) { return tmp_.Sub(absl::StrCat("run-", run_id)); }

  // Starts `spec`, waits for its end, checks the listener contract and returns its events.
  RecordingListener::Events Run(RunSpec spec) {
    int64_t run_id = spec.run_id;
    absl::Status started = runner_->Start(std::move(spec));
    EXPECT_TRUE(started.ok()) << started;
    EXPECT_TRUE(listener_.WaitFinished(run_id)) << "run " << run_id << " did not finish";
    return Checked(run_id);
  }
  RecordingListener::Events Checked(int64_t run_id) {
    RecordingListener::Events events = listener_.Get(run_id);
    EXPECT_EQ(events.finished, 1);
    EXPECT_TRUE(events.violations.empty()) << events.violations.front();
    return events;
  }
  static void ExpectNoLiveProcess(pid_t pgid) {
    EXPECT_FALSE(GroupHasLiveMembers(pgid)) << "process group " << pgid << " still has members";
  }

  TempDir tmp_;
  RecordingListener listener_;
  std::unique_ptr<JobRunner> runner_;
};

TEST_F(JobRunnerTest, MergesStdoutAndStderrInOrder) {
  auto events = Run(Bash(1, "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done\n"));
  std::string expected;
  for (int i = 1; i <= 5; ++i) absl::StrAppend(&expected, "out", i, "\nerr", i, "\n");
  EXPECT_EQ(events.output, expected);
  EXPECT_EQ(ReadAll(WorkDir(1) + "/output.log"), expected);
  ASSERT_TRUE(events.outcome);
  EXPECT_TRUE(events.outcome->ok()) << events.outcome->Describe();
}

TEST_F(JobRunnerTest, StreamsLargeOutputInBoundedChunks) {
  // 300000 bytes without a newline: nothing on our side may wait for a line end.
  auto events = Run(Bash(1, "head -c 300000 /dev/zero | tr '\\0' x\n"));
  EXPECT_EQ(events.output, std::string(300000, 'x'));  // Chunk sizes checked by the listener.
  EXPECT_EQ(std::filesystem::file_size(WorkDir(1) + "/output.log"), 300000u);
}

TEST_F(JobRunnerTest, ExitCode) {
  auto events = Run(Bash(1, "exit 7\n"));
  ASSERT_TRUE(events.outcome);
  ASSERT_TRUE(std::holds_alternative<Exited>(events.outcome->how)) << events.outcome->Describe();
  EXPECT_EQ(std::get<Exited>(events.outcome->how).code, 7);
  EXPECT_EQ(events.outcome->Describe(), "exit code 7");
  EXPECT_FALSE(events.outcome->timed_out || events.outcome->cancelled);
}

TEST_F(JobRunnerTest, KilledBySignal) {
  auto events = Run(Bash(1, "kill -9 $$\n"));
  ASSERT_TRUE(events.outcome);
  ASSERT_TRUE(std::holds_alternative<Signaled>(events.outcome->how)) << events.outcome->Describe();
  EXPECT_EQ(std::get<Signaled>(events.outcome->how).signal, SIGKILL);
}

TEST_F(JobRunnerTest, EnvironmentReachesChild) {
  ASSERT_EQ(::setenv("HERA_EXEC_TEST_BASE", "from worker", 1), 0);
  ASSERT_EQ(::setenv("HERA_EXEC_TEST_OVERRIDDEN", "old", 1), 0);
  Create(JobRunnerOptions{});  // The runner captures the environment when it is created.
  RunSpec spec = Bash(1, "echo \"$HERA_EXEC_TEST_BASE|$HERA_EXEC_TEST_OVERRIDDEN|$HERA_RUN_ID\"\n");
  spec.env = {{"HERA_EXEC_TEST_OVERRIDDEN", "new"}, {"HERA_RUN_ID", "1"}};
  auto events = Run(std::move(spec));
  EXPECT_EQ(events.output, "from worker|new|1\n");
}

TEST_F(JobRunnerTest, CwdIsTheCreatedWorkDir) {
  RunSpec spec = Bash(1, "pwd -P\n");
  spec.work_dir = tmp_.Sub("deep/er/dir");
  auto events = Run(std::move(spec));
  EXPECT_EQ(events.output, std::filesystem::canonical(tmp_.Sub("deep/er/dir")).string() + "\n");
  struct stat st;
  ASSERT_EQ(::stat(tmp_.Sub("deep/er/dir/script.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(JobRunnerTest, TimeoutKillsTheTree) {
  RunSpec spec = Bash(1, "sleep 300 & echo $! > bg.pid\nsleep 300\n");
  spec.timeout = absl::Milliseconds(300);
  auto events = Run(std::move(spec));
  ASSERT_TRUE(events.outcome && events.pid);
  EXPECT_TRUE(events.outcome->timed_out);
  EXPECT_FALSE(events.outcome->cancelled);
  EXPECT_TRUE(std::holds_alternative<Signaled>(events.outcome->how)) << events.outcome->Describe();
  EXPECT_NE(events.outcome->Describe().find("(timeout after 300ms)"), std::string::npos)
      << events.outcome->Describe();
  ExpectNoLiveProcess(*events.pid);
}

TEST_F(JobRunnerTest, CancelKillsTheTree) {
  ASSERT_TRUE(
      runner_->Start(Bash(1, "sleep 300 &\necho $! > bg.pid\necho started\nsleep 300\n")).ok());
  ASSERT_TRUE(listener_.WaitOutput(1, "started"));
  std::optional<pid_t> bg = ReadPidFile(WorkDir(1) + "/bg.pid");
  ASSERT_TRUE(bg);
  EXPECT_TRUE(Alive(*bg));
  runner_->Cancel(1);
  ASSERT_TRUE(listener_.WaitFinished(1));
  auto events = Checked(1);
  ASSERT_TRUE(events.outcome && events.pid);
  EXPECT_TRUE(events.outcome->cancelled);
  EXPECT_FALSE(events.outcome->timed_out);
  EXPECT_TRUE(std::holds_alternative<Signaled>(events.outcome->how)) << events.outcome->Describe();
  ExpectNoLiveProcess(*events.pid);
  EXPECT_FALSE(Alive(*bg));
  EXPECT_EQ(runner_->running(), 0u);
}

TEST_F(JobRunnerTest, CancelGivesTheTreeItsGraceWhenTheLeaderDiesFirst) {
  JobRunnerOptions options;
  options.kill_grace = absl::Seconds(60);  // Ends early: the run is over once the group is.
  Create(options);
  // The leader (this bash) dies on SIGTERM at once; the inner bash cleans up first.
  ASSERT_TRUE(runner_
                  ->Start(Bash(1,
                               "bash -c 'trap \"sleep 0.2; echo cleanup done; exit 0\" TERM\n"
                               "echo started; while :; do sleep 0.05; done'\n"
                               "echo not reached\n"))
                  .ok());
  ASSERT_TRUE(listener_.WaitOutput(1, "started"));
  runner_->Cancel(1);
  ASSERT_TRUE(listener_.WaitFinished(1));
  auto events = Checked(1);
  ASSERT_TRUE(events.outcome && events.pid);
  EXPECT_TRUE(events.outcome->cancelled);
  // (bash may also report its `sleep` as "Terminated".)
  EXPECT_NE(events.output.find("cleanup done\n"), std::string::npos) << events.output;
  EXPECT_EQ(events.output.find("not reached"), std::string::npos) << events.output;
  ExpectNoLiveProcess(*events.pid);
}

TEST_F(JobRunnerTest, CancelEscalatesToSigkillWhenTermIsIgnored) {
  JobRunnerOptions options;
  options.kill_grace = absl::Milliseconds(200);
  Create(options);
  // `trap '' TERM` is inherited by the children as SIG_IGN: only SIGKILL ends this tree.
  ASSERT_TRUE(runner_->Start(Bash(1, "trap '' TERM\nsleep 300 &\necho started\nsleep 300\n")).ok());
  ASSERT_TRUE(listener_.WaitOutput(1, "started"));
  runner_->Cancel(1);
  ASSERT_TRUE(listener_.WaitFinished(1));
  auto events = Checked(1);
  ASSERT_TRUE(events.outcome && events.pid);
  EXPECT_TRUE(events.outcome->cancelled);
  ASSERT_TRUE(std::holds_alternative<Signaled>(events.outcome->how)) << events.outcome->Describe();
  EXPECT_EQ(std::get<Signaled>(events.outcome->how).signal, SIGKILL);
  ExpectNoLiveProcess(*events.pid);
}

TEST_F(JobRunnerTest, CancelBeforeSpawnDoesNotSpawn) {
  // From inside a callback both requests reach the loop in the same batch, before the spawn.
  listener_.set_on_started([this](int64_t run_id) {
    if (run_id != 1) return;
    EXPECT_TRUE(runner_->Start(Bash(2, "touch spawned\n")).ok());
    runner_->Cancel(2);
  });
  Run(Bash(1, "true\n"));
  ASSERT_TRUE(listener_.WaitFinished(2));
  auto events = Checked(2);
  ASSERT_TRUE(events.outcome);
  EXPECT_FALSE(events.pid);
  EXPECT_TRUE(events.outcome->cancelled);
  EXPECT_TRUE(std::holds_alternative<SpawnFailed>(events.outcome->how))
      << events.outcome->Describe();
  EXPECT_FALSE(std::filesystem::exists(WorkDir(2))) << "the run was prepared anyway";
}

TEST_F(JobRunnerTest, FiftyConcurrentRunsFinishExactlyOnce) {
  constexpr int kRuns = 50;
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE(runner_->Start(Command(i, {"true"}, WorkDir(i))).ok());
  }
  for (int i = 0; i < kRuns; ++i) ASSERT_TRUE(listener_.WaitFinished(i)) << "run " << i;
  for (int i = 0; i < kRuns; ++i) {
    auto events = Checked(i);
    ASSERT_TRUE(events.outcome);
    EXPECT_TRUE(events.outcome->ok()) << i << ": " << events.outcome->Describe();
  }
  EXPECT_EQ(runner_->running(), 0u);
}

TEST_F(JobRunnerTest, BackgroundGrandchildHoldingStdoutDoesNotHang) {
  auto events = Run(Bash(1, "sleep 300 &\necho $! > bg.pid\necho done\n"));
  ASSERT_TRUE(events.outcome && events.pid);
  EXPECT_TRUE(events.outcome->ok()) << events.outcome->Describe();
  EXPECT_EQ(events.output, "done\n");
  ExpectNoLiveProcess(*events.pid);
  std::optional<pid_t> bg = ReadPidFile(WorkDir(1) + "/bg.pid");
  ASSERT_TRUE(bg);
  EXPECT_FALSE(Alive(*bg));
}

TEST_F(JobRunnerTest, EscapedGrandchildHoldingStdoutIsBoundedByDrainTimeout) {
  JobRunnerOptions options;
  options.drain_timeout = absl::Milliseconds(300);
  Create(options);
  // setsid moves the grandchild out of the group, beyond our SIGKILL; it keeps the pipe open.
  auto events = Run(Bash(1,
                         "setsid sh -c 'echo $$ > escaped.tmp; mv escaped.tmp escaped.pid; "
                         "exec sleep 300' &\n"
                         "while [ ! -e escaped.pid ]; do sleep 0.01; done\necho done\n"));
  std::optional<pid_t> escaped = ReadPidFile(WorkDir(1) + "/escaped.pid");
  ASSERT_TRUE(escaped);
  EXPECT_TRUE(Alive(*escaped));  // Not ours to kill any more: the test cleans up.
  ::kill(*escaped, SIGKILL);
  ASSERT_TRUE(events.outcome);
  EXPECT_TRUE(events.outcome->ok()) << events.outcome->Describe();
  EXPECT_EQ(events.output, "done\n");
}

TEST_F(JobRunnerTest, SpawnFailuresAreReportedAsOutcomes) {
  auto missing = Run(Command(1, {"hera-no-such-program"}, WorkDir(1)));
  ASSERT_TRUE(missing.outcome);
  EXPECT_FALSE(missing.pid) << "OnStarted for a process that never ran";
  ASSERT_TRUE(std::holds_alternative<SpawnFailed>(missing.outcome->how));
  EXPECT_NE(missing.outcome->Describe().find("not found"), std::string::npos)
      << missing.outcome->Describe();

  { std::ofstream(tmp_.Sub("a-file")) << "x"; }
  auto bad_dir = Run(Command(2, {"true"}, tmp_.Sub("a-file/sub")));
  ASSERT_TRUE(bad_dir.outcome);
  EXPECT_FALSE(bad_dir.pid);
  EXPECT_TRUE(std::holds_alternative<SpawnFailed>(bad_dir.outcome->how))
      << bad_dir.outcome->Describe();
}

TEST_F(JobRunnerTest, StartRejectsBadSpecsAndDuplicates) {
  EXPECT_EQ(runner_->Start(Command(1, {}, WorkDir(1))).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(runner_->Start(Bash(2, "sleep 300\n")).ok());
  EXPECT_EQ(runner_->Start(Bash(2, "true\n")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(runner_->running(), 1u);
  runner_->Cancel(2);
  runner_->Cancel(2);  // Repeated and unknown ids are ignored.
  runner_->Cancel(99);
  ASSERT_TRUE(listener_.WaitFinished(2));
  Checked(2);
  // The id is free again once OnFinished was called.
  ASSERT_TRUE(runner_->Start(Bash(2, "echo again\n")).ok());
  ASSERT_TRUE(listener_.WaitFinished(2, /*count=*/2));
  EXPECT_EQ(listener_.Get(2).output, "again\n");
  runner_->Shutdown();
  EXPECT_EQ(runner_->Start(Bash(3, "true\n")).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(JobRunnerTest, ShutdownCancelsRunsInFlight) {
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(runner_->Start(Bash(i, "sleep 300\n")).ok());
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(listener_.WaitStarted(i));
  runner_->Shutdown();
  runner_->Shutdown();  // Idempotent.
  for (int i = 1; i <= 3; ++i) {
    auto events = Checked(i);  // Shutdown returned: every OnFinished has happened.
    ASSERT_TRUE(events.outcome && events.pid);
    EXPECT_TRUE(events.outcome->cancelled) << events.outcome->Describe();
    ExpectNoLiveProcess(*events.pid);
  }
  EXPECT_EQ(runner_->running(), 0u);
}

TEST_F(JobRunnerTest, LedgerRecordsRunningGroups) {
  TempDir ledger_dir;
  JobRunnerOptions options;
  options.ledger_dir = ledger_dir.Sub("ledger");
  Create(options);
  ASSERT_TRUE(runner_->Start(Bash(5, "echo started\nsleep 300\n")).ok());
  ASSERT_TRUE(listener_.WaitOutput(5, "started"));
  std::string line = ReadAll(options.ledger_dir + "/ledger.log");
  ASSERT_TRUE(line.starts_with("+")) << line;
  absl::StatusOr<LedgerRecord> parsed = ParseLedgerRecord(line.substr(1));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->run_id, 5);
  EXPECT_EQ(parsed->pid, *listener_.Get(5).pid);
  EXPECT_EQ(parsed->start_time, ReadProcStat(parsed->pid)->start_time);
  runner_->Cancel(5);
  ASSERT_TRUE(listener_.WaitFinished(5));
  EXPECT_EQ(ReadAll(options.ledger_dir + "/ledger.log"), line + "-5\n");
  EXPECT_TRUE(KillLeftovers(options.ledger_dir).empty());
}

// keep_ended_records: an ended run stays in the ledger until Forget, so that a crash before its
// end is stored elsewhere still shows it as started.
TEST_F(JobRunnerTest, KeptEndedRecordsStayUntilForgotten) {
  TempDir ledger_dir;
  JobRunnerOptions options;
  options.ledger_dir = ledger_dir.Sub("ledger");
  options.keep_ended_records = true;
  Create(options);
  Run(Bash(6, "true\n"));
  Run(Bash(7, "true\n"));
  runner_->Forget({7, 99});  // 99: unknown, ignored
  runner_->Shutdown();
  runner_->Forget({});  // after Shutdown too
  EXPECT_EQ(KillLeftovers(options.ledger_dir), std::vector<int64_t>{6});
}

// With max_running, further runs wait on the runner and start as runs end, in order; a waiting
// run that is cancelled never starts.
TEST_F(JobRunnerTest, MaxRunningQueuesRunsInOrder) {
  JobRunnerOptions options;
  options.max_running = 2;
  Create(options);
  const std::string trace = tmp_.Sub("trace");
  for (int64_t id = 1; id <= 5; ++id) {
    ASSERT_TRUE(runner_
                    ->Start(Bash(id, absl::StrCat("echo start", id, " >> ", trace,
                                                  "\nsleep 0.2\necho end", id, " >> ", trace,
                                                  "\n")))
                    .ok());
  }
  runner_->Cancel(5);  // Still waiting: at most two of the five can be alive.
  for (int64_t id = 1; id <= 5; ++id) ASSERT_TRUE(listener_.WaitFinished(id)) << id;
  EXPECT_TRUE(listener_.Get(5).outcome->cancelled);
  EXPECT_FALSE(listener_.Get(5).pid.has_value()) << "a cancelled waiting run was spawned";
  // Replay the trace: never more than two alive, and runs start in the order given.
  int alive = 0, max_alive = 0;
  std::vector<std::string> starts;
  for (absl::string_view line : absl::StrSplit(ReadAll(trace), '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "start")) {
      starts.emplace_back(line);
      max_alive = std::max(max_alive, ++alive);
    } else {
      --alive;
    }
  }
  EXPECT_EQ(max_alive, 2);
  // 1 and 2 start at once (their lines may interleave either way), 3 and 4 only after them.
  ASSERT_EQ(starts.size(), 4u);
  EXPECT_EQ(std::set<std::string>(starts.begin(), starts.begin() + 2),
            (std::set<std::string>{"start1", "start2"}));
  EXPECT_EQ(std::set<std::string>(starts.begin() + 2, starts.end()),
            (std::set<std::string>{"start3", "start4"}));
}

// A run's secrets are masked in the worker's own copy of its log and in what the listener
// streams on, even when the output splits a secret across writes; lengths are kept.
TEST_F(JobRunnerTest, SecretsAreMaskedInOutputLogAndStream) {
  RunSpec spec = Bash(1, "printf 'pw=hun'; sleep 0.2; printf 'ter2 ok\\n'; echo hunter2\n");
  spec.masked = {"hunter2", ""};
  auto events = Run(std::move(spec));
  EXPECT_EQ(events.output, "pw=******* ok\n*******\n");
  EXPECT_EQ(ReadAll(WorkDir(1) + "/output.log"), "pw=******* ok\n*******\n");
}

// A worker in the master's process keeps no output.log: the listener stores the log.
TEST_F(JobRunnerTest, WithoutAnOutputLogTheListenerStillGetsEverything) {
  JobRunnerOptions options;
  options.keep_output_log = false;
  Create(options);
  auto events = Run(Bash(1, "echo one; echo two >&2\n"));
  EXPECT_EQ(events.output, "one\ntwo\n");
  EXPECT_FALSE(std::filesystem::exists(WorkDir(1) + "/output.log"));
}

// The slot limit holds by the recorded times: a run's end (Outcome::ended_at, by the runner's
// clock) is never after the recorded start of the run that took its slot. The runner refills a
// slot before it reports the run that freed it, so an end read by the listener would be.
TEST_F(JobRunnerTest, RecordedEndComesBeforeTheNextStartInTheSlot) {
  RealClock clock;
  JobRunnerOptions options;
  options.max_running = 1;
  options.clock = &clock;
  Create(options);
  absl::Mutex mu;
  std::map<int64_t, absl::Time> started;
  listener_.set_on_started([&](int64_t id) {
    MutexLock lock(&mu);
    started[id] = clock.Now();
  });
  constexpr int64_t kRuns = 20;
  for (int64_t id = 1; id <= kRuns; ++id) ASSERT_TRUE(runner_->Start(Bash(id, "true\n")).ok());
  for (int64_t id = 1; id <= kRuns; ++id) ASSERT_TRUE(listener_.WaitFinished(id)) << id;
  MutexLock lock(&mu);
  for (int64_t id = 1; id < kRuns; ++id) {
    const std::optional<absl::Time> ended = listener_.Get(id).outcome->ended_at;
    ASSERT_TRUE(ended.has_value()) << id;
    EXPECT_GE(*ended, started.at(id)) << id;
    EXPECT_LE(*ended, started.at(id + 1)) << "run " << id + 1 << " started in the slot of " << id
                                          << " before " << id << "'s recorded end";
  }
}

// A listener may hold events until OnTurnDone, so the runner must call it before it waits:
// a start is passed on while the run still runs, and an end without waiting for another event.
TEST_F(JobRunnerTest, TurnDoneFollowsEveryEventBeforeTheRunnerWaits) {
  ASSERT_TRUE(runner_->Start(Bash(1, "sleep 300\n")).ok());
  ASSERT_TRUE(listener_.WaitStartTurnDone(1)) << "the start was not followed by a turn's end";
  EXPECT_EQ(listener_.Get(1).finished, 0);  // passed on while the run runs
  runner_->Cancel(1);
  ASSERT_TRUE(listener_.WaitFinished(1));
  EXPECT_TRUE(listener_.WaitFinishTurnDone(1)) << "the end was not followed by a turn's end";
  Checked(1);
}

// A long queue behind few slots: every run is prepared and started once, in order.
TEST_F(JobRunnerTest, LongQueueBehindOneSlotRunsEachOnceInOrder) {
  JobRunnerOptions options;
  options.max_running = 1;
  Create(options);
  const std::string trace = tmp_.Sub("trace");
  constexpr int64_t kRuns = 60;
  for (int64_t id = 1; id <= kRuns; ++id) {
    ASSERT_TRUE(runner_->Start(Bash(id, absl::StrCat("echo ", id, " >> ", trace, "\n"))).ok());
  }
  runner_->Cancel(30);
  for (int64_t id = 1; id <= kRuns; ++id) ASSERT_TRUE(listener_.WaitFinished(id)) << id;
  std::vector<std::string> expected;
  for (int64_t id = 1; id <= kRuns; ++id) {
    if (id != 30) expected.push_back(absl::StrCat(id));
  }
  const std::string lines = ReadAll(trace);
  const std::vector<std::string> seen = absl::StrSplit(lines, '\n', absl::SkipEmpty());
  // Run 30 may have started before the cancel reached the runner; then it ran once, in place.
  std::vector<std::string> without30;
  for (const auto& line : seen) {
    if (line != "30") without30.push_back(line);
  }
  EXPECT_EQ(without30, expected);
  EXPECT_LE(seen.size() - without30.size(), 1u);
}

}  // namespace
}  // namespace hera::exec
