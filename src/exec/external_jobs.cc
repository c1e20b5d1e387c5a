#include "exec/external_jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/strings.h"
#include "common/unique_fd.h"
#include "exec/child_process.h"
#include "exec/outcome.h"
#include "exec/run_setup.h"

namespace hera::exec {
namespace {

constexpr std::string_view kApplication = "application";
constexpr std::string_view kJob = "job";
// Bytes of the log kept between Feed() calls: longer than any real id ("application_" + a
// 13-digit cluster timestamp + "_" + a sequence number is under 40), so an id split across
// chunks is always whole in the next scan.
constexpr size_t kTail = 128;

bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

size_t CountDigits(std::string_view s, size_t pos) {
  size_t n = 0;
  while (pos + n < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[pos + n]))) ++n;
  return n;
}

// For the '_' at `underscore`: the start of "application_" or "job_" ending there, if any.
std::optional<size_t> PrefixStart(std::string_view s, size_t underscore) {
  for (std::string_view word : {kApplication, kJob}) {
    if (underscore >= word.size() && s.substr(underscore - word.size(), word.size()) == word) {
      return underscore - word.size();
    }
  }
  return std::nullopt;
}

// If `<prefix>_<digits>_<digits>` follows the '_' at `underscore`, returns the end of the id;
// `touches_end` is set when the id (or what may become one) runs to the end of `s`.
std::optional<size_t> IdEnd(std::string_view s, size_t underscore, bool* touches_end) {
  *touches_end = false;
  size_t pos = underscore + 1;
  size_t digits = CountDigits(s, pos);
  pos += digits;
  if (pos == s.size()) {
    *touches_end = true;
    return std::nullopt;
  }
  if (digits == 0 || s[pos] != '_') return std::nullopt;
  ++pos;
  digits = CountDigits(s, pos);
  pos += digits;
  if (pos == s.size()) *touches_end = true;
  if (digits == 0) return std::nullopt;
  return pos;
}

// The command line for `id`, or why there is none.
absl::StatusOr<std::vector<std::string>> CommandFor(const std::string& id,
                                                    const KillCommands& commands) {
  if (!IsExternalJobId(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", id, "\" is not a YARN application or MapReduce job id"));
  }
  const bool yarn = id[0] == 'a';
  std::vector<std::string> argv =
      absl::StrSplit(yarn ? commands.yarn : commands.mapred, absl::ByAnyChar(" \t"),
                     absl::SkipEmpty());
  if (argv.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no kill command configured for ", yarn ? "YARN applications" : "MapReduce jobs"));
  }
  argv.push_back(id);
  return argv;
}

using SteadyClock = std::chrono::steady_clock;

}  // namespace

bool IsExternalJobId(std::string_view id) {
  size_t underscore = id.find('_');
  if (underscore == std::string_view::npos) return false;
  std::optional<size_t> start = PrefixStart(id, underscore);
  bool touches_end = false;
  std::optional<size_t> end = IdEnd(id, underscore, &touches_end);
  return start == size_t{0} && end == id.size();
}

void ExternalJobScanner::Feed(std::string_view chunk) {
  buffer_.append(chunk);
  Scan(/*final=*/false);
}

void ExternalJobScanner::Finish() { Scan(/*final=*/true); }

void ExternalJobScanner::Scan(bool final) {
  std::string_view s = buffer_;
  // Every id has a '_' right after its prefix; memchr to each '_' keeps the scan of a large
  // log chunk cheap.
  for (size_t u = s.find('_'); u != std::string_view::npos; u = s.find('_', u + 1)) {
    std::optional<size_t> start = PrefixStart(s, u);
    if (!start) continue;
    // A match at 0 of a kept tail was judged by the previous scan, which could still see the
    // byte before it; without that byte it cannot be judged again.
    if (*start == 0 && !at_start_) continue;
    if (*start > 0 && IsWordChar(s[*start - 1])) continue;
    bool touches_end = false;
    std::optional<size_t> end = IdEnd(s, u, &touches_end);
    if (!end || (touches_end && !final)) continue;  // Not an id, or its digits may go on.
    std::string id(s.substr(*start, *end - *start));
    if (seen_.insert(id).second) ids_.push_back(std::move(id));
  }
  if (final) {
    buffer_.clear();
    at_start_ = false;
  } else if (buffer_.size() > kTail) {
    buffer_.erase(0, buffer_.size() - kTail);
    at_start_ = false;
  }
}

std::vector<std::string> FindExternalJobs(std::string_view log) {
  ExternalJobScanner scanner;
  scanner.Feed(log);
  scanner.Finish();
  return scanner.ids();
}

std::vector<ExternalKillResult> KillExternalJobs(const std::vector<std::string>& ids,
                                                 const KillCommands& commands,
                                                 absl::Time deadline) {
  std::vector<ExternalKillResult> results(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) results[i].id = ids[i];
  if (ids.empty()) return results;

  const std::vector<std::string> env = commands.env.empty() ? CurrentEnvironment() : commands.env;
  UniqueFd dev_null;
  int output_fd = commands.output_fd;
  if (output_fd < 0) {
    dev_null.Reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (!dev_null.valid()) {
      absl::Status error = absl::ErrnoToStatus(errno, "open /dev/null");
      for (ExternalKillResult& r : results) r.status = error;
      return results;
    }
    output_fd = dev_null.get();
  }
  // The deadline is wall-clock time; wait by the steady clock so a clock step cannot stretch
  // or cut the wait. A far (or infinite) deadline is capped to keep the arithmetic finite.
  const absl::Duration left =
      std::clamp(deadline - absl::Now(), absl::ZeroDuration(), absl::Hours(24 * 365));
  const SteadyClock::time_point end =
      SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                               absl::ToChronoNanoseconds(left));
  const size_t max_parallel = static_cast<size_t>(std::max(1, commands.max_parallel));

  struct Running {
    size_t index;
    std::string command;  // For messages: the command line without the id.
    ChildProcess child;
  };
  std::vector<Running> running;
  size_t next = 0;
  while (true) {
    while (running.size() < max_parallel && next < ids.size()) {
      const size_t i = next++;
      absl::StatusOr<std::vector<std::string>> argv = CommandFor(ids[i], commands);
      if (!argv.ok()) {
        results[i].status = argv.status();
        continue;
      }
      if (SteadyClock::now() >= end) {
        results[i].status = absl::DeadlineExceededError("not run: the deadline had passed");
        continue;
      }
      std::string command =
          absl::StrJoin(argv->begin(), argv->end() - 1, " ");
      absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(*argv, env, "/", output_fd);
      if (!child.ok()) {
        results[i].status = child.status();
        continue;
      }
      running.push_back(Running{i, std::move(command), *std::move(child)});
    }
    if (running.empty()) break;  // Nothing runs and nothing is left to start.

    const SteadyClock::time_point now = SteadyClock::now();
    if (now >= end) {
      for (Running& r : running) {
        // ~ChildProcess would do the same; spelled out because this is the point of the
        // deadline: the whole group of a hung client goes, and nothing is left unreaped.
        (void)r.child.SignalGroup(SIGKILL);
        (void)r.child.Reap();
        results[r.index].status = absl::DeadlineExceededError(
            absl::StrCat(r.command, ": still running at the deadline, killed"));
      }
      running.clear();
      continue;  // Marks the ids not started yet as not run.
    }

    std::vector<pollfd> fds;
    for (const Running& r : running) fds.push_back(pollfd{r.child.pidfd(), POLLIN, 0});
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(end - now);
    const int timeout_ms = static_cast<int>(std::min<int64_t>(wait.count(), 60 * 60 * 1000));
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) {
      // Cannot wait any more (EFAULT/EINVAL/ENOMEM): treat it as the deadline.
      const absl::Status error = absl::ErrnoToStatus(errno, "poll");
      for (Running& r : running) {
        (void)r.child.SignalGroup(SIGKILL);
        (void)r.child.Reap();
        results[r.index].status = error;
      }
      running.clear();
      continue;
    }
    if (ready <= 0) continue;

    std::vector<Running> still_running;
    for (size_t k = 0; k < running.size(); ++k) {
      Running& r = running[k];
      if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        still_running.push_back(std::move(r));
        continue;
      }
      // The leader has exited but is unreaped, so its group id is still ours: end whatever it
      // left behind in the group before reaping.
      (void)r.child.SignalGroup(SIGKILL);
      absl::StatusOr<int> wait_status = r.child.Reap();
      if (!wait_status.ok()) {
        results[r.index].status = wait_status.status();
        continue;
      }
      auto how = FromWaitStatus(*wait_status);
      if (const Exited* exited = std::get_if<Exited>(&how); exited && exited->code == 0) {
        results[r.index].status = absl::OkStatus();
      } else if (exited) {
        results[r.index].status =
            absl::UnknownError(absl::StrCat(r.command, ": exit code ", exited->code));
      } else if (const Signaled* signaled = std::get_if<Signaled>(&how)) {
        results[r.index].status = absl::UnknownError(
            absl::StrCat(r.command, ": killed by signal ", signaled->signal));
      }
    }
    running = std::move(still_running);
  }
  return results;
}

}  // namespace hera::exec
