#include "exec/external_jobs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "exec/proc_stat.h"
#include "exec/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hera::exec {
namespace {

using ::hera::exec::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr char kHiveLog[] =
    "2024-01-01 00:00:01 INFO Compiling command\n"
    "Total jobs = 2\n"
    "Starting Job = job_1700000000000_0042, Tracking URL = "
    "http://rm:8088/proxy/application_1700000000000_0042/\n"
    "Kill Command = /usr/bin/mapred job  -kill job_1700000000000_0042\n"
    "INFO client.YarnClientImpl: Submitted application application_1700000000000_0043\n"
    "INFO mapreduce.Job: Running job: job_1700000000000_0043\n"
    "INFO mapreduce.Job: The url to track the job: http://rm:8088/proxy/"
    "application_1700000000000_0043/\n";

TEST(ExternalJobScannerTest, FindsIdsInOrderWithoutDuplicates) {
  EXPECT_THAT(FindExternalJobs(kHiveLog),
              ElementsAre("job_1700000000000_0042", "application_1700000000000_0042",
                          "application_1700000000000_0043", "job_1700000000000_0043"));
}

TEST(ExternalJobScannerTest, IgnoresNearMisses) {
  EXPECT_THAT(FindExternalJobs("myjob_1_2 application_ job_12 job__1 job_1_ "
                               "applications_1_2 Application_1_2 appattempt_1_2_3 x_job_1_2\n"),
              IsEmpty());
  // A non-word byte before the prefix is fine, as is the start of the log.
  EXPECT_THAT(FindExternalJobs("job_1_2/(application_3_4)"),
              ElementsAre("job_1_2", "application_3_4"));
}

TEST(ExternalJobScannerTest, IdSplitAtEveryPossibleChunkBoundary) {
  const std::string log = "x Submitted application application_1700000000000_0042\nmore\n";
  for (size_t cut = 0; cut <= log.size(); ++cut) {
    ExternalJobScanner scanner;
    scanner.Feed(std::string_view(log).substr(0, cut));
    scanner.Feed(std::string_view(log).substr(cut));
    scanner.Finish();
    EXPECT_THAT(scanner.ids(), ElementsAre("application_1700000000000_0042")) << "cut " << cut;
  }
}

TEST(ExternalJobScannerTest, ByteAtATime) {
  ExternalJobScanner scanner;
  for (char c : std::string_view(kHiveLog)) scanner.Feed(std::string_view(&c, 1));
  scanner.Finish();
  EXPECT_EQ(scanner.ids(), FindExternalJobs(kHiveLog));
}

TEST(ExternalJobScannerTest, IdAtTheEndWaitsForMoreDigitsOrFinish) {
  ExternalJobScanner scanner;
  scanner.Feed("Starting Job = job_1700000000000_00");
  EXPECT_THAT(scanner.ids(), IsEmpty());  // The digits may go on...
  scanner.Feed("42");
  EXPECT_THAT(scanner.ids(), IsEmpty());
  scanner.Finish();  // ...until the log ends.
  EXPECT_THAT(scanner.ids(), ElementsAre("job_1700000000000_0042"));
}

TEST(ExternalJobScannerTest, WordCharBeforeIdAcrossChunksStillRejected) {
  {
    ExternalJobScanner scanner;
    scanner.Feed(std::string(300, '.') + "my");
    scanner.Feed("job_1_2 ok\n");
    scanner.Finish();
    EXPECT_THAT(scanner.ids(), IsEmpty());
  }
  {
    // The near miss ends up first in the kept tail, its 'y' dropped: the next scans must not
    // judge it again without that byte.
    ExternalJobScanner scanner;
    scanner.Feed(std::string(300, '.') + "myjob_1_2 " + std::string(120, '.'));
    scanner.Feed("x");
    scanner.Finish();
    EXPECT_THAT(scanner.ids(), IsEmpty());
  }
}

TEST(ExternalJobScannerTest, LongLinesWithoutNewlineKeepMemoryBoundedAndStillFindIds) {
  ExternalJobScanner scanner;
  // A progress bar rewriting one line with '\r' for a long time, with an id in the middle.
  for (int i = 0; i < 1000; ++i) scanner.Feed("\r[Stage 1:=======>          (10 + 4) / 200]");
  scanner.Feed(" tracking URL http://rm/proxy/application_1700000000000_0007/ ");
  for (int i = 0; i < 1000; ++i) scanner.Feed("\r[Stage 2:=======>          (10 + 4) / 200]");
  EXPECT_THAT(scanner.ids(), ElementsAre("application_1700000000000_0007"));
}

TEST(ExternalJobIdTest, WholeIdsOnly) {
  EXPECT_TRUE(IsExternalJobId("application_1700000000000_0042"));
  EXPECT_TRUE(IsExternalJobId("job_1_2"));
  EXPECT_FALSE(IsExternalJobId("job_1_2 "));
  EXPECT_FALSE(IsExternalJobId("-kill"));
  EXPECT_FALSE(IsExternalJobId("job_1"));
  EXPECT_FALSE(IsExternalJobId("xjob_1_2"));
  EXPECT_FALSE(IsExternalJobId(""));
}

// Stub yarn/mapred programs in a temp dir. Each appends "<name> <args>" to calls.txt.
class KillExternalJobsTest : public ::testing::Test {
 protected:
  // Writes an executable shell script `name` with `body` after the shebang.
  std::string Stub(const std::string& name, const std::string& body) {
    std::string path = tmp_.Sub(name);
    std::ofstream(path) << "#!/bin/sh\n" << body;
    EXPECT_EQ(::chmod(path.c_str(), 0755), 0);
    return path;
  }
  // A stub that records its argv and exits with `code`.
  std::string Recorder(const std::string& name, int code = 0) {
    return Stub(name, "echo \"" + name + " $*\" >> '" + calls() + "'\nexit " +
                          std::to_string(code) + "\n");
  }
  std::string calls() const { return tmp_.Sub("calls.txt"); }
  std::vector<std::string> Calls() const {
    std::ifstream in(calls());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  // Runs with a deadline far enough away never to matter on a loaded machine.
  static std::vector<ExternalKillResult> Kill(const std::vector<std::string>& ids,
                                              const KillCommands& commands) {
    return KillExternalJobs(ids, commands, absl::Now() + testing::kWait);
  }

  TempDir tmp_;
};

TEST_F(KillExternalJobsTest, RunsEachCommandWithTheIdAppendedByAbsolutePath) {
  KillCommands commands;
  commands.yarn = Recorder("yarn") + " application  -kill";  // Repeated spaces split as one.
  commands.mapred = Recorder("mapred") + " job -kill";
  std::vector<ExternalKillResult> results =
      Kill({"application_1700000000000_0042", "job_1700000000000_0043"}, commands);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].id, "application_1700000000000_0042");
  EXPECT_TRUE(results[0].status.ok()) << results[0].status;
  EXPECT_EQ(results[1].id, "job_1700000000000_0043");
  EXPECT_TRUE(results[1].status.ok()) << results[1].status;
  EXPECT_THAT(Calls(), UnorderedElementsAre("yarn application -kill application_1700000000000_0042",
                                            "mapred job -kill job_1700000000000_0043"));
}

TEST_F(KillExternalJobsTest, DefaultCommandsAreFoundInTheChildsPath) {
  Recorder("yarn");
  Recorder("mapred");
  KillCommands commands;  // "yarn application -kill", "mapred job -kill"
  commands.env = {"PATH=" + tmp_.path() + ":/usr/bin:/bin"};
  std::vector<ExternalKillResult> results = Kill({"job_1_2", "application_3_4"}, commands);
  for (const ExternalKillResult& r : results) EXPECT_TRUE(r.status.ok()) << r.id << r.status;
  EXPECT_THAT(Calls(), UnorderedElementsAre("mapred job -kill job_1_2",
                                            "yarn application -kill application_3_4"));
}

TEST_F(KillExternalJobsTest, NeverThroughAShell) {
  KillCommands commands;
  commands.yarn = Recorder("yarn") + " application;touch " + tmp_.Sub("pwned") + " -kill";
  std::vector<ExternalKillResult> results = Kill({"application_1_2"}, commands);
  ASSERT_TRUE(results[0].status.ok()) << results[0].status;
  EXPECT_THAT(Calls(), ElementsAre("yarn application;touch " + tmp_.Sub("pwned") +
                                   " -kill application_1_2"));
  EXPECT_NE(::access(tmp_.Sub("pwned").c_str(), F_OK), 0);
}

TEST_F(KillExternalJobsTest, ReportsEachFailureAndRunsTheRest) {
  KillCommands commands;
  commands.yarn = Recorder("yarn", 255) + " application -kill";
  commands.mapred = tmp_.Sub("no-such-mapred") + " job -kill";
  std::vector<ExternalKillResult> results =
      Kill({"application_1_2", "job_1_2", "--help", "application_5_6"}, commands);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].status.code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(std::string(results[0].status.message()), ::testing::HasSubstr("exit code 255"));
  EXPECT_FALSE(results[1].status.ok());  // The program does not exist.
  EXPECT_THAT(std::string(results[1].status.message()), ::testing::HasSubstr("no-such-mapred"));
  EXPECT_EQ(results[2].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(results[3].status.code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(Calls(), UnorderedElementsAre("yarn application -kill application_1_2",
                                            "yarn application -kill application_5_6"));
}

TEST_F(KillExternalJobsTest, EmptyCommandDisablesThatKind) {
  KillCommands commands;
  commands.yarn = "";
  commands.mapred = Recorder("mapred") + " job -kill";
  std::vector<ExternalKillResult> results = Kill({"application_1_2", "job_1_2"}, commands);
  EXPECT_EQ(results[0].status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(results[1].status.ok()) << results[1].status;
}

TEST_F(KillExternalJobsTest, HungCommandIsKilledAtTheDeadlineWithItsGroup) {
  // The stub's child (sleep) is in the stub's process group and must die with it.
  KillCommands commands;
  commands.yarn = Stub("yarn", "echo $$ > '" + tmp_.Sub("pid") + "'\nsleep 300\n") +
                  " application -kill";
  commands.mapred = Recorder("mapred") + " job -kill";
  commands.max_parallel = 1;  // So job_1_2 is still waiting when the deadline comes.
  const absl::Time start = absl::Now();
  std::vector<ExternalKillResult> results =
      KillExternalJobs({"application_1_2", "job_1_2"}, commands, start + absl::Seconds(2));
  // Bounded by the deadline, not by the stub's 300 s (the margin is for a loaded machine).
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));
  EXPECT_EQ(results[0].status.code(), absl::StatusCode::kDeadlineExceeded) << results[0].status;
  EXPECT_EQ(results[1].status.code(), absl::StatusCode::kDeadlineExceeded) << results[1].status;
  EXPECT_THAT(Calls(), IsEmpty());

  std::ifstream pid_file(tmp_.Sub("pid"));
  pid_t pgid = 0;
  ASSERT_TRUE(pid_file >> pgid);
  // Killed with SIGKILL and its leader reaped; the sleep may take a moment to vanish.
  absl::Time give_up = absl::Now() + testing::kWait;
  while (GroupHasLiveMembers(pgid) && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_FALSE(GroupHasLiveMembers(pgid));
}

TEST_F(KillExternalJobsTest, ManyIdsWithLimitedParallelismAllRun) {
  KillCommands commands;
  commands.mapred = Recorder("mapred") + " job -kill";
  commands.max_parallel = 3;
  std::vector<std::string> ids;
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    ids.push_back("job_1700000000000_" + std::to_string(i));
    expected.push_back("mapred job -kill " + ids.back());
  }
  std::vector<ExternalKillResult> results = Kill(ids, commands);
  ASSERT_EQ(results.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(results[i].id, ids[i]);
    EXPECT_TRUE(results[i].status.ok()) << results[i].status;
  }
  EXPECT_THAT(Calls(), ::testing::UnorderedElementsAreArray(expected));
}

TEST_F(KillExternalJobsTest, OutputGoesToTheGivenFd) {
  KillCommands commands;
  commands.yarn = Stub("yarn", "echo \"out $*\"\necho \"err $*\" >&2\n") + " application -kill";
  std::string log = tmp_.Sub("log");
  UniqueFd fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd.valid());
  commands.output_fd = fd.get();
  std::vector<ExternalKillResult> results = Kill({"application_1_2"}, commands);
  ASSERT_TRUE(results[0].status.ok()) << results[0].status;
  std::stringstream text;
  text << std::ifstream(log).rdbuf();
  EXPECT_EQ(text.str(),
            "out application -kill application_1_2\nerr application -kill application_1_2\n");
}

TEST_F(KillExternalJobsTest, NoIdsRunsNothing) {
  EXPECT_THAT(Kill({}, KillCommands()), IsEmpty());
}

}  // namespace
}  // namespace hera::exec
