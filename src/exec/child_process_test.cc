#include "exec/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "exec/proc_stat.h"
#include "exec/run_setup.h"
#include "exec/test_util.h"
#include "gtest/gtest.h"

namespace hera::exec {
namespace {

using ::hera::exec::testing::TempDir;

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end.Reset(fds[0]);
    write_end.Reset(fds[1]);
  }
  // Closes our write end and reads until EOF.
  std::string ReadToEof() {
    write_end.Reset();
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(read_end.get(), buf, sizeof(buf))) > 0) out.append(buf, n);
    return out;
  }
  UniqueFd read_end;
  UniqueFd write_end;
};

std::string Readlink(const std::string& path) {
  std::error_code ec;
  return std::filesystem::read_symlink(path, ec).string();
}

TEST(ChildProcessTest, OwnGroupDevNullStdinOnlyStdFds) {
  TempDir tmp;
  Pipe pipe;
  absl::StatusOr<ChildProcess> child =
      ChildProcess::Spawn({"sleep", "300"}, CurrentEnvironment(), tmp.path(), pipe.write_end.get());
  ASSERT_TRUE(child.ok()) << child.status();
  std::optional<ProcStat> stat = ReadProcStat(child->pid());
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pgrp, child->pid());
  EXPECT_EQ(child->pgid(), child->pid());

  // Until `sleep` is asleep, the dynamic loader may hold a library open on fd 3: wait for it.
  for (int i = 0; i < 500; ++i) {
    std::optional<ProcStat> now = ReadProcStat(child->pid());
    if (now && now->state == 'S') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::string fd_dir = "/proc/" + std::to_string(child->pid()) + "/fd";
  EXPECT_EQ(Readlink(fd_dir + "/0"), "/dev/null");
  std::string pipe_name = Readlink(fd_dir + "/1");
  EXPECT_EQ(pipe_name.rfind("pipe:", 0), 0u) << pipe_name;
  EXPECT_EQ(Readlink(fd_dir + "/2"), pipe_name);
  std::vector<std::string> fds;
  for (const auto& entry : std::filesystem::directory_iterator(fd_dir)) {
    fds.push_back(entry.path().filename().string());
  }
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"})) << "an fd leaked into the child";
  EXPECT_EQ(Readlink("/proc/" + std::to_string(child->pid()) + "/cwd"),
            std::filesystem::canonical(tmp.path()).string());

  ASSERT_TRUE(child->SignalGroup(SIGKILL).ok());
  absl::StatusOr<int> status = child->Reap();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_EQ(WTERMSIG(*status), SIGKILL);
}

TEST(ChildProcessTest, SignalMaskAndDispositionsAreReset) {
  TempDir tmp;
  Pipe pipe;
  // The worker may block and ignore signals; the job must not inherit that.
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGUSR2, &ignore, &old_action), 0);

  absl::StatusOr<ChildProcess> child =
      ChildProcess::Spawn({"grep", "-E", "^(SigBlk|SigIgn):", "/proc/self/status"},
                          CurrentEnvironment(), tmp.path(), pipe.write_end.get());

  ::sigaction(SIGUSR2, &old_action, nullptr);
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ASSERT_TRUE(child.ok()) << child.status();
  std::string lines = pipe.ReadToEof();
  uint64_t blocked = 1, ignored = 1;
  ASSERT_EQ(
      std::sscanf(lines.c_str(), "SigBlk:\t%" SCNx64 "\nSigIgn:\t%" SCNx64, &blocked, &ignored), 2)
      << lines;
  EXPECT_EQ(blocked, 0u) << lines;
  // Bit n-1 is signal n. glibc's posix_spawn leaves its internal signals 32 and 33 ignored.
  constexpr uint64_t kGlibcInternal = (uint64_t{1} << 31) | (uint64_t{1} << 32);
  EXPECT_EQ(ignored & ~kGlibcInternal, 0u) << lines;
  absl::StatusOr<int> status = child->Reap();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 0);
}

TEST(ChildProcessTest, LooksUpProgramInChildPath) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.Sub("bin"));
  {
    std::ofstream script(tmp.Sub("bin/hera-hello"));
    script << "#!/bin/sh\necho hello from $0\n";
  }
  ::chmod(tmp.Sub("bin/hera-hello").c_str(), 0755);
  Pipe pipe;
  absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(
      {"hera-hello"}, {"PATH=/nonexistent:" + tmp.Sub("bin")}, tmp.path(), pipe.write_end.get());
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(pipe.ReadToEof(), "hello from " + tmp.Sub("bin/hera-hello") + "\n");
  EXPECT_EQ(*child->Reap(), 0);
}

TEST(ChildProcessTest, ReportsSpawnErrors) {
  TempDir tmp;
  Pipe pipe;
  absl::StatusOr<ChildProcess> missing = ChildProcess::Spawn(
      {"hera-no-such-program"}, {"PATH=/usr/bin:/bin"}, tmp.path(), pipe.write_end.get());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  absl::StatusOr<ChildProcess> bad_path =
      ChildProcess::Spawn({tmp.Sub("nope")}, {}, tmp.path(), pipe.write_end.get());
  EXPECT_FALSE(bad_path.ok());
  absl::StatusOr<ChildProcess> bad_cwd =
      ChildProcess::Spawn({"/bin/true"}, {}, tmp.Sub("missing-dir"), pipe.write_end.get());
  EXPECT_FALSE(bad_cwd.ok());
  EXPECT_EQ(ChildProcess::Spawn({}, {}, tmp.path(), pipe.write_end.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The start time the spawn derives from the clock is the one /proc gives, which the ledger uses
// to tell a leftover job from a process that reused its pid.
TEST(ChildProcessTest, StartTimeFromTheSpawnMatchesProc) {
  TempDir tmp;
  int known = 0;
  for (int i = 0; i < 100; ++i) {
    Pipe pipe;
    absl::StatusOr<ChildProcess> child =
        ChildProcess::Spawn({"/bin/true"}, {}, tmp.path(), pipe.write_end.get());
    ASSERT_TRUE(child.ok()) << child.status();
    std::optional<ProcStat> stat = ReadProcStat(child->pid());  // unreaped: a zombie at worst
    ASSERT_TRUE(stat.has_value());
    if (child->start_time()) {
      ++known;
      EXPECT_EQ(*child->start_time(), stat->start_time) << "spawn " << i;
    }
    ASSERT_TRUE(child->Reap().ok());
  }
  // A spawn takes well under a clock tick (10 ms): the clock alone nearly always tells.
  EXPECT_GE(known, 50);
}

TEST(ChildProcessTest, DestructorKillsTheGroup) {
  TempDir tmp;
  Pipe pipe;
  pid_t pid;
  {
    absl::StatusOr<ChildProcess> child =
        ChildProcess::Spawn({"sh", "-c", "sleep 300 & sleep 300"}, CurrentEnvironment(), tmp.path(),
                            pipe.write_end.get());
    ASSERT_TRUE(child.ok()) << child.status();
    pid = child->pid();
  }
  // The leader is reaped; the background sleep got SIGKILL, which is asynchronous.
  for (int i = 0; i < 6000 && GroupHasLiveMembers(pid); ++i) ::usleep(10000);
  EXPECT_FALSE(GroupHasLiveMembers(pid));
}

}  // namespace
}  // namespace hera::exec
