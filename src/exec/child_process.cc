#include "exec/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "exec/proc_stat.h"
#include "exec/program_lookup.h"

namespace hera::exec {
namespace {

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// posix_spawn's attribute and file-action objects, destroyed on every return path.
struct SpawnAttrs {
  SpawnAttrs() {
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttrs() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
};

absl::Status ErrnoError(int err, const std::string& what) { return absl::ErrnoToStatus(err, what); }

}  // namespace

absl::StatusOr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                                 const std::vector<std::string>& env,
                                                 const std::string& cwd, int output_fd) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  absl::StatusOr<std::string> program =
      ProgramLookup::Shared().Find(argv[0], env, cwd, absl::Now());
  if (!program.ok()) return program.status();

  // The file actions below first open /dev/null onto fd 0, then dup onto 1 and 2; an
  // output_fd among 0-2 would be clobbered by them, so move it out of the way first.
  UniqueFd moved_output;
  if (output_fd <= STDERR_FILENO) {
    moved_output.Reset(::fcntl(output_fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1));
    if (!moved_output.valid()) return ErrnoError(errno, "dup output fd");
    output_fd = moved_output.get();
  }

  SpawnAttrs s;
  // New process group led by the child (pgid 0 = its own pid), so the whole tree can be
  // signalled at once. The child starts with an empty signal mask and default dispositions
  // for all signals: the worker may block or ignore signals (SIGPIPE, SIGCHLD, ...) that a job
  // must see normally. (glibc's posix_spawn leaves its two internal signals, 32 and 33, ignored;
  // glibc programs install their own handlers for them, so this is harmless.)
  sigset_t empty;
  sigset_t all;
  sigemptyset(&empty);
  sigfillset(&all);
  int rc = ::posix_spawnattr_setflags(
      &s.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (rc == 0) rc = ::posix_spawnattr_setpgroup(&s.attr, 0);
  if (rc == 0) rc = ::posix_spawnattr_setsigmask(&s.attr, &empty);
  if (rc == 0) rc = ::posix_spawnattr_setsigdefault(&s.attr, &all);
  if (rc == 0) {
    rc = ::posix_spawn_file_actions_addopen(&s.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&s.actions, output_fd, STDOUT_FILENO);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&s.actions, output_fd, STDERR_FILENO);
  // O_CLOEXEC covers our fds; this also covers fds the worker inherited from its parent or
  // that a library opened without it.
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&s.actions, STDERR_FILENO + 1);
  if (rc == 0) rc = ::posix_spawn_file_actions_addchdir_np(&s.actions, cwd.c_str());
  if (rc != 0) return ErrnoError(rc, "posix_spawn setup");

  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);
  pid_t pid = -1;
  // The kernel stamps the child's start time during the spawn, so between these two readings.
  const uint64_t ticks_before = BootTicksNow();
  // glibc's posix_spawn uses CLONE_VFORK and reports chdir/exec failures here (the failed
  // child is already reaped), so a returned pid is a child that has exec'd.
  rc = ::posix_spawn(&pid, program->c_str(), &s.actions, &s.attr, c_argv.data(), c_env.data());
  const uint64_t ticks_after = BootTicksNow();
  if (rc != 0) {
    return ErrnoError(rc, absl::StrCat("spawn ", *program, " in ", cwd));
  }
  // The child is unreaped, so its pid cannot have been reused: pidfd_open is race-free here.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    int err = errno;
    ::kill(-pid, SIGKILL);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return ErrnoError(err, "pidfd_open");
  }
  std::optional<uint64_t> start_time;
  if (ticks_before == ticks_after) start_time = ticks_before;
  return ChildProcess(pid, std::move(pidfd), start_time);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      reaped_(other.reaped_),
      start_time_(other.start_time_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    reaped_ = other.reaped_;
    start_time_ = other.start_time_;
  }
  return *this;
}

ChildProcess::~ChildProcess() { KillAndReap(); }

void ChildProcess::KillAndReap() {
  if (pid_ <= 0 || reaped_) return;
  ::kill(-pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

absl::Status ChildProcess::SignalGroup(int signal) {
  if (pid_ <= 0 || reaped_) return absl::OkStatus();
  if (::kill(-pid_, signal) < 0 && errno != ESRCH) {
    return ErrnoError(errno, absl::StrCat("kill process group ", pid_));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ChildProcess::Reap() {
  if (pid_ <= 0 || reaped_) return absl::FailedPreconditionError("already reaped");
  int status = 0;
  pid_t rc;
  while ((rc = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (rc < 0) return ErrnoError(errno, absl::StrCat("waitpid ", pid_));
  return status;
}

}  // namespace hera::exec
