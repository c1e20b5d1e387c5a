#include "exec/bounded_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/unique_fd.h"
#include "exec/child_process.h"

namespace hera::exec {
namespace {

constexpr absl::Duration kPollStep = absl::Milliseconds(100);

// Reads what `fd` (non-blocking) has now into `out`, keeping its last `max` bytes. Returns
// false at end of file.
bool ReadAvailable(int fd, std::string* out, size_t max) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      if (out->size() > 2 * max) out->erase(0, out->size() - max);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0;  // EAGAIN: more may come; 0: end of file (as is any other error)
  }
}

}  // namespace

absl::StatusOr<CommandResult> RunBoundedCommand(const std::vector<std::string>& argv,
                                                const std::vector<std::string>& env,
                                                const std::string& cwd, absl::Duration timeout,
                                                const std::atomic<bool>* cancel,
                                                size_t max_output) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) return absl::ErrnoToStatus(errno, "fcntl");
  absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(argv, env, cwd, write_end.get());
  if (!child.ok()) return child.status();
  write_end.Reset();  // the child holds the only writer now: its exit ends the output

  const std::string what = absl::StrJoin(argv, " ");
  const absl::Time deadline = absl::Now() + timeout;
  CommandResult result;
  bool open = true;
  for (;;) {
    pollfd polled[2] = {{child->pidfd(), POLLIN, 0}, {read_end.get(), POLLIN, 0}};
    const absl::Duration wait =
        std::min(kPollStep, std::max(deadline - absl::Now(), absl::ZeroDuration()));
    const int ready =
        ::poll(polled, open ? 2 : 1, static_cast<int>(absl::ToInt64Milliseconds(wait)));
    if (ready < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "poll");
    if (open && (polled[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      open = ReadAvailable(read_end.get(), &result.output, max_output);
    }
    if (polled[0].revents & POLLIN) break;  // the main process exited
    const bool cancelled = cancel != nullptr && cancel->load();
    if (cancelled || absl::Now() >= deadline) {
      (void)child->SignalGroup(SIGKILL);
      (void)child->Reap();
      return cancelled
                 ? absl::CancelledError(absl::StrCat(what, ": cancelled"))
                 : absl::DeadlineExceededError(absl::StrCat(
                       what, ": still running after ", absl::FormatDuration(timeout), ", killed"));
    }
  }
  // Helpers it left behind would hold the pipe open and outlive the download.
  (void)child->SignalGroup(SIGKILL);
  absl::StatusOr<int> status = child->Reap();
  if (!status.ok()) return status.status();
  result.wait_status = *status;
  // What the killed group wrote last is in the pipe now, or never: read up to its end.
  for (const absl::Time until = absl::Now() + absl::Seconds(1); open && absl::Now() < until;) {
    pollfd p = {read_end.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) open = ReadAvailable(read_end.get(), &result.output, max_output);
  }
  if (result.output.size() > max_output) result.output.erase(0, result.output.size() - max_output);
  return result;
}

}  // namespace hera::exec
