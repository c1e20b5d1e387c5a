#include "exec/job_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/fd_io.h"
#include "common/log_masker.h"
#include "common/mutex_lock.h"
#include "common/status.h"
#include "common/thread_name.h"
#include "exec/child_process.h"
#include "exec/proc_stat.h"
#include "exec/run_setup.h"

namespace hera::exec {
namespace {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// Largest OnOutput chunk (the brief's 64 KiB), also the read size.
constexpr size_t kChunkSize = 64 * 1024;
// Reads per pipe per wakeup, so one chatty job cannot starve the others.
constexpr int kReadsPerWakeup = 4;
// Reads when a pipe is abandoned at the drain deadline: what is buffered, bounded.
constexpr int kFinalReads = 16;
// How often to look again whether SIGKILLed group members are gone, and, during a kill grace
// after the leader died, whether the others finished on their own. Each look scans /proc.
constexpr auto kRecheckInterval = std::chrono::milliseconds(10);
constexpr auto kGraceRecheckInterval = std::chrono::milliseconds(50);
// Runs younger than this cannot have seen the pid numbers wrap around (pid_max allocations),
// so SpawnedGroupHasLiveMembers may be used for them.
constexpr auto kShortRun = std::chrono::seconds(1);

SteadyClock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(absl::ToChronoNanoseconds(d));
}

// The runner whose loop runs on this thread, if any.
thread_local const JobRunner* loop_owner = nullptr;

// Bugs are not errors (STYLE 2.3): abseil here has no CHECK, so abort with a message.
[[noreturn]] void Fatal(const char* message) {
  std::fprintf(stderr, "hera::exec fatal: %s\n", message);
  std::abort();
}

}  // namespace

// One spawned run; lives in runs_ from spawn to OnFinished. Loop thread only.
struct JobRunner::Run {
  Run(int64_t id, ChildProcess c) : run_id(id), child(std::move(c)) {}

  int64_t run_id;
  ChildProcess child;
  UniqueFd out;        // Read end of the stdout+stderr pipe, O_NONBLOCK; invalid after EOF.
  std::string work_dir;
  std::optional<LogMasker> masker;  // set when the run has secrets to mask
  UniqueFd log;        // work_dir/output.log, opened at the first output; see log_error.
  int64_t offset = 0;  // Bytes delivered so far.
  absl::Duration timeout = absl::ZeroDuration();
  bool timed_out = false;
  bool cancelled = false;
  std::string log_error;

  std::optional<SteadyTime> timeout_at;  // While the leader runs: when to kill for the timeout.
  std::optional<SteadyTime> sigkill_at;  // SIGTERM was sent; when to follow with SIGKILL.
  // Ending: the leader exited (a zombie, kept unreaped so its pgid stays ours) and the rest of
  // the group got SIGKILL, or gets it at sigkill_at if a kill grace is running. The run
  // completes when the pipe hit EOF and no member is alive, or at end_deadline.
  bool leader_exited = false;
  SteadyTime end_deadline;
  SteadyTime recheck_at;
  SteadyTime spawned_at = SteadyClock::now();
};

absl::StatusOr<std::unique_ptr<JobRunner>> JobRunner::Create(RunListener* listener,
                                                             JobRunnerOptions options) {
  if (listener == nullptr) return absl::InvalidArgumentError("listener is null");
  std::optional<RunLedger> ledger;
  if (!options.ledger_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.ledger_dir, ec);
    if (ec) {
      return absl::ErrnoToStatus(ec.value(),
                                 absl::StrCat("create ledger dir ", options.ledger_dir));
    }
    HERA_ASSIGN_OR_RETURN(ledger, RunLedger::Open(options.ledger_dir));
  }
  UniqueFd wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd.valid()) return absl::ErrnoToStatus(errno, "eventfd");
  std::unique_ptr<JobRunner> runner(
      new JobRunner(listener, std::move(options), std::move(ledger), std::move(wake_fd)));
  try {  // std::thread reports failure by exception; it stops here.
    runner->thread_ = std::thread([r = runner.get()] { r->Loop(); });
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(absl::StrCat("start runner thread: ", e.what()));
  }
  runner->thread_id_ = runner->thread_.get_id();
  return runner;
}

JobRunner::JobRunner(RunListener* listener, JobRunnerOptions options,
                     std::optional<RunLedger> ledger, UniqueFd wake_fd)
    : listener_(listener),
      options_(std::move(options)),
      base_env_(CurrentEnvironment()),
      ledger_(std::move(ledger)),
      wake_fd_(std::move(wake_fd)) {}

JobRunner::~JobRunner() { Shutdown(); }

absl::Status JobRunner::Start(RunSpec spec) {
  absl::Status valid = ValidateRunSpec(spec);
  if (!valid.ok()) return WithContext(valid, absl::StrCat("run ", spec.run_id));
  {
    MutexLock lock(&mu_);
    if (stopping_) return absl::FailedPreconditionError("job runner is shut down");
    if (!active_ids_.insert(spec.run_id).second) {
      return absl::AlreadyExistsError(absl::StrCat("run ", spec.run_id, " is already running"));
    }
    pending_starts_.push_back(std::move(spec));
  }
  Wake();
  return absl::OkStatus();
}

void JobRunner::Cancel(int64_t run_id) {
  {
    MutexLock lock(&mu_);
    if (!active_ids_.contains(run_id)) return;
    pending_cancels_.insert(run_id);
  }
  Wake();
}

void JobRunner::Shutdown() {
  if (std::this_thread::get_id() == thread_id_) {
    Fatal("JobRunner::Shutdown() called from a listener callback");
  }
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake();
  MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

void JobRunner::Forget(const std::vector<int64_t>& run_ids) {
  MutexLock lock(&ledger_mu_);
  if (!ledger_) return;
  for (int64_t run_id : run_ids) (void)ledger_->Remove(run_id);
}

void JobRunner::RequestTurnBy(SteadyTime deadline) {
  if (loop_owner != this) Fatal("JobRunner::RequestTurnBy() called outside the runner's thread");
  if (!turn_deadline_ || deadline < *turn_deadline_) turn_deadline_ = deadline;
}

size_t JobRunner::running() const {
  MutexLock lock(&mu_);
  return active_ids_.size();
}

void JobRunner::Wake() {
  uint64_t one = 1;
  // EAGAIN means the counter is saturated: a wakeup is pending anyway.
  while (::write(wake_fd_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

// The loop, ninja's SubprocessSet::DoWork grown up: take requests, poll every pipe and pidfd
// until something happens or the nearest deadline, then act on what happened. Job processes are
// tracked through pidfds, not SIGCHLD, so the loop needs no signal handling and leaves the
// process's signal setup alone.
void JobRunner::Loop() {
  NameCurrentThread("hera-runner");
  loop_owner = this;
  std::vector<pollfd> fds;
  std::vector<std::pair<Run*, bool>> owners;  // fds[i + 1] belongs to owners[i]; true: pidfd.
  while (true) {
    // 1. Requests from other threads. Starts go first: a cancel in the same batch may name them.
    std::deque<RunSpec> starts;
    std::set<int64_t> cancels;
    bool stopping;
    {
      MutexLock lock(&mu_);
      starts.swap(pending_starts_);
      cancels.swap(pending_cancels_);
      stopping = stopping_;
    }
    for (RunSpec& spec : starts) waiting_.push_back(std::move(spec));
    if (!cancels.empty() || stopping) {
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (cancels.erase(it->run_id) > 0 || stopping) {
          Outcome outcome;
          outcome.how = SpawnFailed{"cancelled before start"};
          outcome.cancelled = true;
          int64_t run_id = it->run_id;
          prepared_.erase(run_id);
          it = waiting_.erase(it);
          Finish(run_id, std::move(outcome));
        } else {
          ++it;
        }
      }
    }
    SpawnWaiting();
    for (int64_t run_id : cancels) {
      auto it = runs_.find(run_id);
      if (it != runs_.end()) BeginKill(*it->second, /*timed_out=*/false);
    }
    if (stopping) {
      // stopping_ was read with the swap above, and Start() refuses once it is set: nothing
      // can be queued any more.
      if (runs_.empty()) {
        listener_->OnTurnDone();
        return;
      }
      for (auto& [id, run] : runs_) BeginKill(*run, /*timed_out=*/false);
    }

    // 2. Wait for output, an exit, a request or the nearest deadline.
    turn_deadline_.reset();
    listener_->OnTurnDone();
    fds.assign(1, pollfd{wake_fd_.get(), POLLIN, 0});
    owners.clear();
    std::optional<SteadyTime> next;
    auto consider = [&next](const std::optional<SteadyTime>& t) {
      if (t && (!next || *t < *next)) next = t;
    };
    consider(turn_deadline_);
    for (auto& [id, run] : runs_) {
      if (run->out.valid()) {
        fds.push_back(pollfd{run->out.get(), POLLIN, 0});
        owners.emplace_back(run.get(), false);
      }
      consider(run->timeout_at);
      consider(run->sigkill_at);
      if (!run->leader_exited) {
        fds.push_back(pollfd{run->child.pidfd(), POLLIN, 0});
        owners.emplace_back(run.get(), true);
      } else {
        consider(run->out.valid() ? run->end_deadline : run->recheck_at);
      }
    }
    timespec ts{};
    if (next) {
      auto wait = std::max(SteadyClock::duration::zero(), *next - SteadyClock::now());
      // Round up to a millisecond so a deadline a few ns away does not spin.
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait);
      ts.tv_sec = static_cast<time_t>(ms.count() / 1000);
      ts.tv_nsec = static_cast<long>((ms.count() % 1000) * 1000000);
    }
    int ready = ::ppoll(fds.data(), fds.size(), next ? &ts : nullptr, nullptr);
    if (ready < 0) {
      if (errno == EINTR) continue;
      Fatal("ppoll failed");  // EFAULT/EINVAL/ENOMEM: nothing sensible left to do.
    }

    // 3. Act on what happened: output first, so that a run ending now has read what it can.
    if (fds[0].revents != 0) {
      uint64_t count;
      while (::read(wake_fd_.get(), &count, sizeof(count)) < 0 && errno == EINTR) {
      }
    }
    for (size_t i = 0; i < owners.size(); ++i) {
      if (fds[i + 1].revents == 0) continue;
      auto [run, is_pidfd] = owners[i];
      if (is_pidfd) {
        OnLeaderExited(*run);
      } else {
        ReadOutput(*run, /*final_read=*/false);
      }
    }
    SteadyTime now = SteadyClock::now();
    std::vector<int64_t> done;
    for (auto& [id, run] : runs_) {
      if (run->timeout_at && now >= *run->timeout_at) BeginKill(*run, /*timed_out=*/true);
      if (run->sigkill_at && now >= *run->sigkill_at) {
        run->sigkill_at.reset();
        (void)run->child.SignalGroup(SIGKILL);
      }
      if (run->leader_exited && TryComplete(*run)) done.push_back(id);
    }
    std::vector<std::pair<int64_t, Outcome>> outcomes;
    // Read once, before the freed slots are refilled: a run's recorded end is never after the
    // recorded start of the run that takes its slot.
    const absl::Time ended_at =
        done.empty() ? absl::InfinitePast()
                     : (options_.clock ? options_.clock->Now() : absl::Now());
    for (int64_t run_id : done) {
      auto node = runs_.extract(run_id);
      Run& run = *node.mapped();
      Outcome outcome;
      leaders_.erase(run.child.pid());  // reaped below: the pid may be reused from then on
      absl::StatusOr<int> status = run.child.Reap();
      if (status.ok()) {
        outcome.how = FromWaitStatus(*status);
      } else {  // Someone else in this process reaped our child (waitpid(-1)): a bug there.
        outcome.how = SpawnFailed{absl::StrCat("exit status lost: ", status.status().message())};
      }
      // Removed only after the reap: until then the pid could not have been reused, so a
      // record left by a crash is always safe for KillLeftovers to act on.
      if (!options_.keep_ended_records) Forget({run_id});
      outcome.timed_out = run.timed_out;
      outcome.cancelled = run.cancelled;
      outcome.timeout = run.timeout;
      // What the masker held back (a possible start of a secret) is final now.
      if (run.masker) Deliver(run, run.masker->Flush());
      outcome.log_error = std::move(run.log_error);
      outcome.ended_at = ended_at;
      node.mapped().reset();  // Close the pipe and the log before reporting.
      outcomes.emplace_back(run_id, std::move(outcome));
    }
    // Freed slots are refilled first: a listener may take its time over a result (a worker
    // makes it durable), and the next run should not wait for that.
    if (!stopping) SpawnWaiting();
    for (auto& [run_id, outcome] : outcomes) Finish(run_id, std::move(outcome));
  }
}

void JobRunner::SpawnWaiting() {
  while (!waiting_.empty() &&
         (options_.max_running <= 0 || runs_.size() < static_cast<size_t>(options_.max_running))) {
    RunSpec spec = std::move(waiting_.front());
    waiting_.pop_front();
    SpawnRun(std::move(spec));
  }
  // The runs still waiting get their work dirs now, while the others run: when a slot frees,
  // only the spawn itself stands between one run's end and the next one's start. Runs are
  // prepared in order and new ones join at the back, so the prepared ones are a prefix: only
  // the tail after it is looked at (a long queue is not rescanned at every turn).
  auto it = waiting_.end();
  while (it != waiting_.begin() && !prepared_.contains(std::prev(it)->run_id)) --it;
  while (it != waiting_.end()) {
    absl::Status prepared = PrepareWorkDir(*it);
    if (prepared.ok()) {
      prepared_.insert(it->run_id);
      ++it;
      continue;
    }
    Outcome outcome;
    outcome.how = SpawnFailed{std::string(prepared.message())};
    const int64_t run_id = it->run_id;
    it = waiting_.erase(it);
    Finish(run_id, std::move(outcome));
  }
}

void JobRunner::SpawnRun(RunSpec spec) {
  const int64_t run_id = spec.run_id;
  auto fail = [&](const absl::Status& status) {
    Outcome outcome;
    outcome.how = SpawnFailed{std::string(status.message())};
    Finish(run_id, std::move(outcome));
  };
  if (prepared_.erase(run_id) == 0) {
    absl::Status prepared = PrepareWorkDir(spec);
    if (!prepared.ok()) return fail(prepared);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return fail(absl::ErrnoToStatus(errno, "pipe2"));
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  // Only our end is non-blocking; the child's stays blocking, as programs expect.
  if (::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) < 0) {
    return fail(absl::ErrnoToStatus(errno, "fcntl O_NONBLOCK"));
  }
  absl::StatusOr<ChildProcess> child = ChildProcess::Spawn(
      spec.argv, MergeEnvironment(base_env_, spec.env), spec.work_dir, write_end.get());
  // Our copy of the write end must go, or the pipe would never reach EOF.
  write_end.Reset();
  if (!child.ok()) return fail(child.status());

  // A crash between the spawn and this record leaves one orphan group KillLeftovers cannot see;
  // recording before the spawn would need the pid, which only the spawn gives.
  if (!options_.ledger_dir.empty()) {
    std::optional<uint64_t> start_time = child->start_time();
    if (!start_time) {
      if (std::optional<ProcStat> stat = ReadProcStat(child->pid())) start_time = stat->start_time;
    }
    absl::Status recorded =
        absl::NotFoundError(absl::StrCat("no /proc entry for pid ", child->pid()));
    if (start_time) {
      MutexLock lock(&ledger_mu_);
      recorded = ledger_->Record({run_id, child->pid(), child->pgid(), *start_time});
    }
    if (!recorded.ok()) {
      // A ledger was asked for so that a crash never leaves orphans; don't run unrecorded.
      // Destroying `child` kills the group and reaps it.
      return fail(WithContext(recorded, "ledger"));
    }
  }

  auto run = std::make_unique<Run>(run_id, *std::move(child));
  if (LogMasker masker(std::move(spec.masked)); masker.active()) {
    run->masker.emplace(std::move(masker));
  }
  run->out = std::move(read_end);
  run->work_dir = std::move(spec.work_dir);
  run->timeout = spec.timeout;
  if (spec.timeout > absl::ZeroDuration()) {
    run->timeout_at = SteadyClock::now() + ToSteady(spec.timeout);
  }
  pid_t pid = run->child.pid();
  leaders_.insert(pid);
  runs_.emplace(run_id, std::move(run));
  listener_->OnStarted(run_id, pid);
}

void JobRunner::BeginKill(Run& run, bool timed_out) {
  // Nothing to do once the leader exited (its group got SIGKILL then) or a kill is under way.
  if (run.leader_exited || run.sigkill_at || run.timed_out || run.cancelled) return;
  run.timeout_at.reset();
  (timed_out ? run.timed_out : run.cancelled) = true;
  (void)run.child.SignalGroup(SIGTERM);
  // A stopped process would not act on SIGTERM until continued.
  (void)run.child.SignalGroup(SIGCONT);
  if (options_.kill_grace <= absl::ZeroDuration()) {
    (void)run.child.SignalGroup(SIGKILL);
  } else {
    run.sigkill_at = SteadyClock::now() + ToSteady(options_.kill_grace);
  }
}

void JobRunner::ReadOutput(Run& run, bool final_read) {
  char buffer[kChunkSize];
  for (int i = 0; i < (final_read ? kFinalReads : kReadsPerWakeup) && run.out.valid(); ++i) {
    ssize_t n = ::read(run.out.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {  // EOF: every writer is gone. (Other errors cannot happen on a pipe.)
      run.out.Reset();
      return;
    }
    const std::string_view bytes(buffer, static_cast<size_t>(n));
    if (run.masker) {
      Deliver(run, run.masker->Feed(bytes));
    } else {
      Deliver(run, bytes);
    }
    if (static_cast<size_t>(n) < sizeof(buffer)) return;  // The pipe is most likely empty.
  }
}

void JobRunner::Deliver(Run& run, std::string_view bytes) {
  if (bytes.empty()) return;
  if (options_.keep_output_log && !run.log.valid() && run.log_error.empty()) {
    absl::StatusOr<UniqueFd> log = OpenRunLog(run.work_dir);
    if (log.ok()) {
      run.log = *std::move(log);
    } else {
      run.log_error = std::string(log.status().message());
    }
  }
  if (run.log.valid()) {
    absl::Status written = WriteAll(run.log.get(), bytes);
    if (!written.ok()) {  // Keep streaming to the listener; report the log's loss at the end.
      run.log_error = std::string(written.message());
      run.log.Reset();
    }
  }
  listener_->OnOutput(run.run_id, run.offset, bytes);
  run.offset += static_cast<int64_t>(bytes.size());
}

void JobRunner::OnLeaderExited(Run& run) {
  run.leader_exited = true;
  run.timeout_at.reset();
  SteadyTime now = SteadyClock::now();
  // The run ends with its main process. Whatever it left in its group goes now, while the
  // unreaped leader still pins the pgid; but if SIGTERM was sent, the others keep their grace:
  // `bash script.sh` dies on SIGTERM at once, while the program it runs may still be cleaning up.
  if (!run.sigkill_at) (void)run.child.SignalGroup(SIGKILL);
  run.end_deadline = run.sigkill_at.value_or(now) + ToSteady(options_.drain_timeout);
  run.recheck_at = now;
}

bool JobRunner::TryComplete(Run& run) {
  SteadyTime now = SteadyClock::now();
  if (run.out.valid()) {
    // Something outside the group (setsid, a daemon) still holds the pipe: wait for EOF until
    // the deadline, then take what is buffered and let it go.
    if (now < run.end_deadline) return false;
    ReadOutput(run, /*final_read=*/true);
    run.out.Reset();
  }
  if (now < run.recheck_at) return false;
  if (now >= run.end_deadline) return true;  // Stuck in the kernel; we cannot do more.
  // EOF only says the members closed the pipe; some may not have written to it, and SIGKILLed
  // ones may not have finished dying. Report no run as finished while part of it still runs.
  // A short run's members can only have pids allocated since its spawn: reading those few is
  // far cheaper than reading every process on the host, which dominated short runs' cost.
  bool live = now - run.spawned_at < kShortRun
                  ? SpawnedGroupHasLiveMembers(run.child.pid(), leaders_)
                  : GroupHasLiveMembers(run.child.pgid(), run.child.pid());
  if (!live) return true;
  if (run.sigkill_at) {  // In the grace period: the loop sends SIGKILL when it is over.
    run.recheck_at = now + kGraceRecheckInterval;
  } else {
    (void)run.child.SignalGroup(SIGKILL);
    run.recheck_at = now + kRecheckInterval;
  }
  return false;
}

void JobRunner::Finish(int64_t run_id, Outcome outcome) {
  {
    MutexLock lock(&mu_);
    active_ids_.erase(run_id);
    // A cancel queued for this run must not hit a new run that reuses the id.
    pending_cancels_.erase(run_id);
  }
  listener_->OnFinished(run_id, outcome);
}

}  // namespace hera::exec
