#pragma once
// What the engine needs from outside, and what the outside may ask of the engine. Real
// implementations live in master/, worker/ and rpc/; tests use fakes. (cf. ninja's
// CommandRunner, leveldb's Env.)

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/model.h"

namespace hera::core {

// Everything a worker needs to execute one run: the job revision the action captured.
struct DispatchOrder {
  RunId run_id = 0;
  JobId job_id = 0;
  ActionId action_id = 0;
  int attempt = 1;
  Trigger trigger = Trigger::kManual;
  JobType type = JobType::kShell;
  std::string script;
  std::string job_name;
  int64_t job_version = 0;
  absl::Time scheduled_time = absl::UnixEpoch();
  int64_t timeout_s = 0;
  std::string host_group;  // empty: any worker
  std::vector<std::pair<std::string, std::string>> env;  // extra environment variables
  // As core makes the order: the job's own configs as its revision stored them (secret.*
  // values encrypted) and its zone (empty: the server's). The master renders `script` with
  // them just before the dispatch (master/run_preparer.h); from then on `configs` holds the
  // job's effective configs without the secrets, which go to `env`.
  Configs configs;
  std::string timezone;
  // Filled by the rendering: `download[uri name]` lines as (uri, name), fetched into the work
  // directory before the run starts.
  std::vector<std::pair<std::string, std::string>> downloads;
  // Filled by the master with the job type's command (master/run_command.h): what the worker
  // runs in the work directory, and the file the script is written to first. Empty argv (an
  // order from an older master): the worker picks the command by `type`.
  std::vector<std::string> argv;
  std::string script_name;
  // Filled by the master with the run's decrypted secret values (they are in `env` too): the
  // worker masks them in its own copy of the log, as the master does in the stored one.
  std::vector<std::string> masked;
};

// How a run ended, as the worker saw it.
struct RunResult {
  RunId run_id = 0;
  std::optional<int> exit_code;  // set when the process exited
  std::optional<int> signal;     // set when it was killed by a signal
  bool timed_out = false;
  bool cancelled = false;   // killed because a cancel was asked
  std::string error;        // non-empty when it could not be started at all
  // Non-empty when the run did start but its worker lost it (the worker's process died and
  // its successor killed the run's processes): the run is `lost`, and retries apply.
  std::string lost;
  absl::Time ended_at = absl::UnixEpoch();
};

// The engine's way to the workers. Called only from the engine thread; must not block.
// Started/finished reports come back to the engine as events.
class WorkerPort {
 public:
  virtual ~WorkerPort() = default;
  // Hands a run to a worker.
  virtual void Dispatch(const std::string& worker, const DispatchOrder& order) = 0;
  // Asks the worker that runs `run` to kill it; a RunResult with cancelled=true follows.
  virtual void Cancel(const std::string& worker, RunId run) = 0;
};

// Runs a worker started, and runs it saw end, in one turn of its loop.
struct RunChanges {
  std::vector<std::pair<RunId, absl::Time>> started;
  std::vector<RunResult> finished;
  bool empty() const { return started.empty() && finished.empty(); }
};

// What workers report about the runs they were given. Thread-safe; must not block for long.
class RunReports {
 public:
  virtual ~RunReports() = default;
  // Stored with the tick it is applied in (its output may follow at once).
  virtual void OnRunStarted(const std::string& worker, RunId run, absl::Time at) = 0;
  // Log bytes at `offset` of the run's log; chunks may repeat after a reconnect.
  virtual void OnRunOutput(RunId run, int64_t offset, std::string_view bytes) = 0;
  virtual void OnRunFinished(const std::string& worker, const RunResult& result) = 0;
  // Starts and ends a worker saw at one moment (a slot freed and the run that took it), applied
  // together in one engine tick. Starts are applied before ends. Without `stored`, starts alone
  // may be written with a later commit (the worker's ledger knows the runs started); with it,
  // the tick commits at once and `stored` runs when these and all earlier reports are stored.
  virtual void OnRunsChanged(const std::string& worker, RunChanges changes,
                             std::function<void()> stored) = 0;
};

// A job of the graph around another one: how far (edges) and on which side of it.
struct GraphNode {
  Job job;
  int depth = 0;
  enum class Side { kRoot, kUp, kDown } side = Side::kRoot;
};

// The result of starting a run by hand.
struct RunTicket {
  RunId run_id = 0;
  ActionId action_id = 0;
};

// The commands the API may send to the engine. Thread-safe; each call waits until its change
// is committed to the store, then returns the stored value or an error naming what is wrong
// (nothing is written on error).
// What a job save may be told beyond its body, and what it tells back.
struct JobSaveOptions {
  // A host group no worker has registered with is accepted (and exists from now on: its runs
  // wait for such a worker); otherwise it is refused as a likely typo.
  bool force_host_group = false;
  // Receives what the caller should be told about an accepted save (may be null).
  std::vector<std::string>* warnings = nullptr;
};

class EngineCommands {
 public:
  virtual ~EngineCommands() = default;
  // `root` first, then the jobs up to `depth` edges upstream (if `up`) and downstream (if
  // `down`) of it, each side by depth then id. NotFound for an unknown root.
  virtual absl::StatusOr<std::vector<GraphNode>> GraphAround(JobId root, bool up, bool down,
                                                             int depth) = 0;
  virtual absl::StatusOr<Group> CreateGroup(const nlohmann::json& body,
                                            const std::string& actor) = 0;
  virtual absl::StatusOr<Group> UpdateGroup(GroupId id, const nlohmann::json& body,
                                            const std::string& actor) = 0;
  virtual absl::Status DeleteGroup(GroupId id, const std::string& actor) = 0;
  // Saves a job, refusing a script that would not render, a command that would not build or
  // (unless forced) a host group no worker serves, as its runs would fail.
  virtual absl::StatusOr<Job> CreateJob(const nlohmann::json& body, const std::string& actor,
                                        const JobSaveOptions& options) = 0;
  virtual absl::StatusOr<Job> UpdateJob(JobId id, const nlohmann::json& body,
                                        const std::string& actor,
                                        const JobSaveOptions& options) = 0;
  virtual absl::Status DeleteJob(JobId id, const std::string& actor) = 0;
  virtual absl::StatusOr<RunTicket> RunJob(JobId id, Trigger trigger,
                                           const std::string& actor) = 0;
  virtual absl::StatusOr<Run> CancelRun(RunId id, const std::string& actor) = 0;
  // Runs scheduled action `id` again as a recovery (its success notifies downstream).
  virtual absl::StatusOr<RunTicket> RecoverAction(ActionId id, const std::string& actor) = 0;
  // Super recovery of scheduled action `id` (see Scheduler::SuperRecoverAction).
  virtual absl::StatusOr<RunTicket> SuperRecoverAction(ActionId id, const std::string& actor) = 0;
  // Rerun batches (see Scheduler::CreateRerun / StopRerun).
  // With `queue`, a batch overlapping one still running waits for it instead of being refused.
  virtual absl::StatusOr<RerunBatch> CreateRerun(JobId job, absl::Time from, absl::Time to,
                                                 int parallelism, bool queue,
                                                 const std::string& actor) = 0;
  virtual absl::StatusOr<RerunBatch> StopRerun(int64_t id, const std::string& actor) = 0;
  // A new batch of the items of batch `id` that failed or were cancelled.
  virtual absl::StatusOr<RerunBatch> RerunFailed(int64_t id, int parallelism,
                                                 const std::string& actor) = 0;
  // Backfills (see Scheduler::CreateBackfill / StopBackfill / ResumeBackfill).
  virtual absl::StatusOr<Backfill> CreateBackfill(const BackfillRequest& request,
                                                  const BackfillOptions& options,
                                                  const std::string& actor) = 0;
  virtual absl::StatusOr<Backfill> StopBackfill(int64_t id, const std::string& actor) = 0;
  // Runs a stopped backfill on; with `retry_failed`, its failed actions again too.
  virtual absl::StatusOr<Backfill> ResumeBackfill(int64_t id, bool retry_failed,
                                                  const std::string& actor) = 0;
  // Forces action `id` to success or failed with a reason.
  virtual absl::StatusOr<Action> ForceAction(ActionId id, ActionStatus status,
                                             const std::string& reason,
                                             const std::string& actor) = 0;
  // Enables or disables job `id` (with `chain`, its whole upstream or downstream chain too);
  // returns every job that changed.
  virtual absl::StatusOr<std::vector<Job>> SetJobEnabled(JobId id, bool enabled, bool chain,
                                                         const std::string& actor) = 0;
};

// Read access to run logs, kept by the master. Thread-safe.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // Bytes of a log read from an offset, and the offset to read on from. Offsets count every
  // byte the run wrote; a log over the cap no longer holds its middle, so a read there gets a
  // notice saying what was dropped and next_offset jumps past it: next_offset is not always
  // the offset plus data.size().
  struct Chunk {
    std::string data;
    int64_t next_offset = 0;
  };
  // Up to about `max_bytes` of run `run`'s log starting at `offset` (empty past the end).
  virtual absl::StatusOr<Chunk> Read(RunId run, int64_t offset, int64_t max_bytes) = 0;
  // How many bytes the run has written to its log so far (0 if nothing was logged yet).
  virtual int64_t Size(RunId run) = 0;
  // What WatchForData found. kReady: the log is already longer than the offset; kNotOpen: the
  // run is not being written (not started yet, or ended): look again later; kWatching: `id`
  // names the watch registered.
  struct DataWatch {
    enum class State { kReady, kNotOpen, kWatching };
    State state = State::kReady;
    uint64_t id = 0;
  };
  // Never blocks. Unless it returns kReady or kNotOpen, calls `ready` once when run `run`'s log
  // grows past `offset` or its log is closed: on the thread that appended or closed, with no
  // lock held, so `ready` must be quick (post a task, notify). Lets a live tail wait without a
  // thread of its own.
  virtual DataWatch WatchForData(RunId run, int64_t offset, std::function<void()> ready) = 0;
  // Drops watch `id` if it has not fired. A `ready` already firing may still finish, so it must
  // own what it touches.
  virtual void Unwatch(uint64_t id) = 0;
};

}  // namespace hera::core
