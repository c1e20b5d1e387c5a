#pragma once
// Runs job processes on a worker and streams their output (SEMANTICS §7-8, STYLE 2.5).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/unique_fd.h"
#include "exec/outcome.h"
#include "exec/run_ledger.h"
#include "exec/run_spec.h"

namespace hera::exec {

// Receives the events of every run of a JobRunner. All calls come from the runner's thread,
// never concurrently, in the order: OnStarted (only if the process was spawned), OnOutput*,
// OnFinished. Implementations must not block for long (they stall every run's output) and must
// not call JobRunner::Shutdown() or destroy the runner; Start() and Cancel() are fine.
class RunListener {
 public:
  virtual ~RunListener() = default;
  // The process is running as `pid`, leader of process group `pid`.
  virtual void OnStarted(int64_t run_id, pid_t pid) = 0;
  // The next bytes of merged stdout+stderr, as read (not line-aligned, at most 64 KiB). The
  // first call has offset 0 and each next one starts where the previous ended.
  virtual void OnOutput(int64_t run_id, int64_t offset, std::string_view bytes) = 0;
  // Exactly once per Start() that returned OK. By now no process of the run's group is alive
  // (unless it ignored SIGKILL past drain_timeout, i.e. was stuck in the kernel), output.log is
  // complete and the run id may be started again.
  virtual void OnFinished(int64_t run_id, const Outcome& outcome) = 0;
  // Before the runner waits, and before its thread ends: the events since the previous call
  // happened at one moment (a run ended and the next one took its slot), so a listener may hold
  // them until now and pass them on together, or hold them longer and ask for another turn by a
  // deadline (JobRunner::RequestTurnBy).
  virtual void OnTurnDone() {}
};

struct JobRunnerOptions {
  // Between SIGTERM and SIGKILL on cancel, timeout and shutdown. Default 5 s.
  absl::Duration kill_grace = absl::Seconds(5);
  // After the main process exits, the rest of its group gets SIGKILL (at once, or when a running
  // kill_grace ends). From then on: how long to keep reading the output pipe, which processes
  // that escaped the group (setsid) may hold open, and to wait for killed members to be gone.
  // Output after that is dropped. Default 2 s.
  absl::Duration drain_timeout = absl::Seconds(2);
  // When set, the ledger file in ledger_dir records each running process group so
  // KillLeftovers() can clean up after a crash; created (mkdir -p) by Create(). Default empty:
  // no ledger.
  std::string ledger_dir;
  // With a ledger: an ended run's record stays until Forget(run_id) instead of going at its
  // reap, for a listener that makes the end durable elsewhere afterwards; a crash in between
  // still finds the run in KillLeftovers' list (as started, not as never run).
  bool keep_ended_records = false;
  // Runs whose processes may live at once; further starts wait in order on the runner's thread
  // and spawn the moment a run ends, without a round trip to whoever gave them. 0: no limit.
  int max_running = 0;
  // False: output goes only to the listener, no work_dir/output.log is written (a worker in
  // the master's process, whose listener stores the log: one copy on the disk, not two).
  bool keep_output_log = true;
  // Where Outcome::ended_at is read from (the listener's clock, so that a run's recorded end
  // and the next run's recorded start compare); null: the system clock. Must outlive the runner.
  const Clock* clock = nullptr;
};

// Runs each RunSpec as a child process tree (own process group, stdin /dev/null, stdout+stderr
// merged into one pipe), streams its output to the listener and to work_dir/output.log, and
// reports how it ended. One thread polls every child's pipe and pidfd.
//
// Error policy: Start() fails only for a bad spec, a duplicate run id or after Shutdown();
// everything that touches the system (work dir, script, output.log, PATH lookup, exec) happens
// on the runner's thread, and its failure is reported as OnFinished(SpawnFailed).
//
// Exit statuses are collected with waitpid on each child's pid, so the process must not ignore
// SIGCHLD or reap children it does not own (waitpid(-1)).
//
// Thread-safe. Destruction = Shutdown(). The listener must outlive the runner.
class JobRunner {
 public:
  // Creates the ledger directory (if any), captures this process's environment as the base of
  // every run's environment, and starts the runner's thread. Returns the system error if one
  // of these fails.
  static absl::StatusOr<std::unique_ptr<JobRunner>> Create(RunListener* listener,
                                                           JobRunnerOptions options);
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;
  ~JobRunner();

  // Queues `spec` for spawning on the runner's thread; OnFinished will follow exactly once.
  // InvalidArgument for a bad spec, AlreadyExists if run_id is queued or running,
  // FailedPrecondition after Shutdown().
  absl::Status Start(RunSpec spec);
  // Kills the run's process group: SIGTERM, then SIGKILL after kill_grace; OnFinished follows
  // with cancelled=true (unless the main process had already exited). A run cancelled before
  // it was spawned is not spawned: OnFinished(SpawnFailed, cancelled=true). Unknown ids and
  // repeated calls are ignored.
  void Cancel(int64_t run_id);
  // Cancels every run (queued ones are not spawned), waits until each has had its OnFinished,
  // and stops the thread. Idempotent; must not be called from a listener callback.
  void Shutdown();
  // Removes the ledger records of ended runs (see keep_ended_records); unknown ids are
  // ignored. Thread-safe, also after Shutdown().
  void Forget(const std::vector<int64_t>& run_ids);
  // Runs started and not yet finished (queued ones included).
  size_t running() const;
  // From a listener's OnTurnDone (the runner's thread only): the runner calls OnTurnDone again
  // by `deadline`, even if nothing happens meanwhile, so a listener may hold what it was told.
  void RequestTurnBy(std::chrono::steady_clock::time_point deadline);

 private:
  struct Run;
  JobRunner(RunListener* listener, JobRunnerOptions options, std::optional<RunLedger> ledger,
            UniqueFd wake_fd);

  void Wake();
  void Loop();
  // Loop-thread helpers; `runs_` and what it holds belong to the loop thread.
  void SpawnRun(RunSpec spec);
  // Spawns waiting runs while fewer than max_running are alive.
  void SpawnWaiting();
  void BeginKill(Run& run, bool timed_out);
  void ReadOutput(Run& run, bool final_read);
  // Appends `bytes` (masked already) to the run's output.log and passes them to the listener.
  void Deliver(Run& run, std::string_view bytes);
  void OnLeaderExited(Run& run);
  bool TryComplete(Run& run);
  void Finish(int64_t run_id, Outcome outcome);

  RunListener* const listener_;
  const JobRunnerOptions options_;
  const std::vector<std::string> base_env_;
  absl::Mutex ledger_mu_;  // The loop thread records and removes; Forget() removes too.
  std::optional<RunLedger> ledger_ ABSL_GUARDED_BY(ledger_mu_);
  const UniqueFd wake_fd_;     // eventfd: Start/Cancel/Shutdown wake the loop's ppoll.
  std::thread thread_;         // Set by Create(); joined under join_mu_.
  std::thread::id thread_id_;  // Set by Create(); read by Shutdown() to refuse self-joins.

  // Owned by the loop thread only (not guarded).
  std::map<int64_t, std::unique_ptr<Run>> runs_;
  // The pids of runs_' leaders: spawned, not yet reaped, each leading its own group.
  absl::flat_hash_set<pid_t> leaders_;
  std::deque<RunSpec> waiting_;  // Started while max_running runs were alive; in order.
  std::set<int64_t> prepared_;   // Waiting runs whose work dir is already prepared.
  // Set by RequestTurnBy during OnTurnDone; the wait before the next turn ends by then.
  std::optional<std::chrono::steady_clock::time_point> turn_deadline_;

  absl::Mutex join_mu_;  // Serializes concurrent Shutdown() calls around thread_.join().

  // Protected by mu_
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<RunSpec> pending_starts_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> pending_cancels_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> active_ids_ ABSL_GUARDED_BY(mu_);  // From Start() to OnFinished.
};

}  // namespace hera::exec
