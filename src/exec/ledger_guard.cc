#include "exec/ledger_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/run_ledger.h"

namespace hera::exec {

absl::Status StartLedgerGuard(const std::string& ledger_dir) {
  int fds[2];
  // O_CLOEXEC: no job may inherit the write end, or the pipe would outlive the worker.
  if (::pipe2(fds, O_CLOEXEC) < 0) return absl::ErrnoToStatus(errno, "guard pipe");
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::ErrnoToStatus(err, "fork the worker's guard");
  }
  if (pid == 0) {
    // The guard. Keep only the read end: an inherited lock on the data dir (or any other fd)
    // must not outlive the worker through us.
    ::close(fds[1]);
    if (fds[0] != 3) {
      ::dup2(fds[0], 3);
    }
    ::syscall(SYS_close_range, 4U, ~0U, 0U);
    ::setpgid(0, 0);
    ::prctl(PR_SET_NAME, "hera-guard", 0, 0, 0);
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);  // the worker's SIGTERM handling kills its jobs itself
    char byte;
    while (::read(3, &byte, 1) < 0 && errno == EINTR) {
    }
    KillRecorded(ledger_dir);
    ::_exit(0);
  }
  ::close(fds[0]);
  // fds[1] stays open, unused, for the life of the process: its closing is the signal.
  return absl::OkStatus();
}

}  // namespace hera::exec
