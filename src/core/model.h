#pragma once
// The scheduler's nouns (SEMANTICS.md §1): groups, jobs, actions, runs, users. Plain values;
// ids are dense integers allocated by the engine, which is the only writer.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace hera::core {

using GroupId = int64_t;
using JobId = int64_t;
using ActionId = int64_t;
using RunId = int64_t;
using UserId = int64_t;

// Key/value configs a job inherits from its groups (nearest wins).
using Configs = std::map<std::string, std::string>;

enum class JobType { kShell, kPython, kHive, kSparkSql, kJava };
enum class Priority { kLow, kMedium, kHigh };
// How a dependency edge picks the upstream actions it waits for (SEMANTICS.md §2).
enum class DependencyPeriod { kNearest, kAllOfDay, kLatestBefore, kPreviousDay };
enum class MissedPolicy { kRunAll, kRunLatest, kSkip };

enum class Trigger { kSchedule, kManual, kRecovery, kSuperRecovery, kRerun, kDebug, kApi };
enum class ActionStatus {
  kPending, kWaiting, kQueued, kRunning, kSuccess, kFailed, kCancelled, kSkipped
};
enum class RunStatus { kQueued, kRunning, kSuccess, kFailed, kCancelled, kLost };

// Lower-case wire names (short: no allocation) ("spark_sql", "super_recovery", ...) and their inverses; the
// parsers return nullopt for unknown names.
std::string Name(JobType v);
std::string Name(Priority v);
std::string Name(DependencyPeriod v);
std::string Name(MissedPolicy v);
std::string Name(Trigger v);
std::string Name(ActionStatus v);
std::string Name(RunStatus v);
std::optional<JobType> ParseJobType(std::string_view s);
std::optional<Priority> ParsePriority(std::string_view s);
std::optional<DependencyPeriod> ParseDependencyPeriod(std::string_view s);
std::optional<MissedPolicy> ParseMissedPolicy(std::string_view s);
std::optional<Trigger> ParseTrigger(std::string_view s);
std::optional<ActionStatus> ParseActionStatus(std::string_view s);
std::optional<RunStatus> ParseRunStatus(std::string_view s);

// True once a run or action can no longer change by itself.
bool IsTerminal(RunStatus s);
bool IsTerminal(ActionStatus s);

struct Group {
  GroupId id = 0;
  std::optional<GroupId> parent_id;  // nullopt: a top-level group
  std::string name;
  std::string description;
  Configs configs;
  std::string owner;
  int64_t version = 1;  // +1 on every save
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
};

struct Dependency {
  JobId job_id = 0;
  DependencyPeriod period = DependencyPeriod::kNearest;
};

struct Schedule {
  std::string cron;      // empty: no time of its own
  std::string timezone;  // IANA name; empty: the server's zone
  std::vector<Dependency> depends_on;
  bool self_dependency = false;
};

struct RetryPolicy {
  int count = 0;       // 0–10 further attempts after the first
  int interval_s = 0;  // seconds between attempts
};

// A job definition. Everything but id/version/timestamps is user-editable.
struct Job {
  JobId id = 0;
  GroupId group_id = 0;
  std::string name;
  std::string description;
  JobType type = JobType::kShell;
  std::string script;
  Schedule schedule;
  bool enabled = false;
  RetryPolicy retry;
  int64_t timeout_s = 0;  // 0: no hard timeout
  std::string host_group;
  Configs configs;
  Priority priority = Priority::kMedium;
  bool allow_concurrent = true;
  MissedPolicy missed = MissedPolicy::kRunAll;
  std::string owner;
  int64_t version = 1;  // +1 on every save; runs record the version they ran
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
};

// One saved definition of a job: the operation history that can be diffed and restored.
struct JobRevision {
  JobId job_id = 0;
  int64_t version = 0;
  std::string author;
  absl::Time saved_at = absl::UnixEpoch();
  std::string definition_json;              // the whole job as the API shows it
  std::vector<std::string> changed_fields;  // empty for the first revision
};

// One scheduled instance of a job: (job, scheduled time).
struct Action {
  ActionId id = 0;
  JobId job_id = 0;
  absl::Time scheduled_time = absl::UnixEpoch();
  ActionStatus status = ActionStatus::kPending;
  int64_t job_version = 0;         // the job revision this action captured
  std::vector<ActionId> upstream;  // linked upstream actions
  std::string reason;              // why it is skipped / waiting / failed
  bool manual = false;  // created by a manual or API run, not by the schedule
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
};

// One attempt to execute an action.
struct Run {
  RunId id = 0;
  JobId job_id = 0;
  ActionId action_id = 0;
  Trigger trigger = Trigger::kManual;
  RunStatus status = RunStatus::kQueued;
  int attempt = 1;
  int64_t job_version = 0;
  std::string worker;  // the worker that ran it; empty while queued
  std::string created_by;
  absl::Time queued_at = absl::UnixEpoch();
  std::optional<absl::Time> started_at;
  std::optional<absl::Time> ended_at;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string message;  // reason for failed/cancelled/lost, or what it waits for
};

// kWaiting: queued behind a batch of the same job whose range overlaps (its `after`).
enum class RerunStatus { kRunning, kDone, kStopped, kWaiting };
std::string Name(RerunStatus v);
std::optional<RerunStatus> ParseRerunStatus(std::string_view s);

// One scheduled time of a rerun batch and, once started, the action that reruns it.
struct RerunItem {
  absl::Time time = absl::UnixEpoch();
  ActionId action_id = 0;  // 0 until started
};

// A rerun batch (重跑历史): one job's times in [from, to], run as `rerun` in time order, at most
// `parallelism` at once. Its upstreams are not run and it notifies no downstream.
struct RerunBatch {
  int64_t id = 0;
  JobId job_id = 0;
  absl::Time from = absl::UnixEpoch();
  absl::Time to = absl::UnixEpoch();
  int parallelism = 1;  // 1–32
  RerunStatus status = RerunStatus::kRunning;
  std::vector<RerunItem> items;  // in time order
  size_t next = 0;               // items before it have been started
  int64_t done = 0;              // items that succeeded
  int64_t failed = 0;            // items that failed or were cancelled
  int64_t retry_of = 0;          // the batch whose failed items this one reruns, or 0
  int64_t after = 0;             // while kWaiting: the overlapping batch it waits for
  std::string created_by;
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
};

enum class BackfillStatus { kRunning, kDone, kStopped };
std::string Name(BackfillStatus v);
std::optional<BackfillStatus> ParseBackfillStatus(std::string_view s);
// Where one (job, time) of a backfill stands. kPending: waits for its upstreams in the backfill
// (or for a free slot); kSkipped: it had succeeded and the backfill skips what succeeded.
enum class NodeState { kPending, kRunning, kSuccess, kFailed, kSkipped };
std::string Name(NodeState v);
std::optional<NodeState> ParseNodeState(std::string_view s);

// One action a backfill runs: a job at a scheduled time, after its upstreams in the backfill.
struct BackfillNode {
  JobId job_id = 0;
  absl::Time time = absl::UnixEpoch();
  ActionId action_id = 0;     // the (job, time)'s action, once known or created
  std::vector<int> upstream;  // indices of the nodes it runs after
  NodeState state = NodeState::kPending;
};

// A backfill (补数据): the given jobs' times in [from, to] and, with `downstream`, every job
// downstream of them, each action after its upstreams inside the backfill, at most
// `parallelism` runs at once, as reruns (after all other work).
struct Backfill {
  int64_t id = 0;
  std::vector<JobId> job_ids;
  absl::Time from = absl::UnixEpoch();
  absl::Time to = absl::UnixEpoch();
  bool downstream = false;
  int parallelism = 1;        // 1–32
  bool newest_first = false;  // which ready time starts first
  bool skip_succeeded = false;
  BackfillStatus status = BackfillStatus::kRunning;
  std::vector<BackfillNode> nodes;  // by time, then job
  std::string created_by;
  absl::Time created_at = absl::UnixEpoch();
  absl::Time updated_at = absl::UnixEpoch();
};

// What a backfill covers (core/backfill_plan.h) and how it runs.
struct BackfillRequest {
  std::vector<JobId> job_ids;
  absl::Time from = absl::UnixEpoch();
  absl::Time to = absl::UnixEpoch();  // included
  bool downstream = false;
};
struct BackfillOptions {
  int parallelism = 1;  // 1–32
  bool newest_first = false;
  bool skip_succeeded = false;
  bool dry_run = false;  // plan it and return it; nothing is saved or run
};

struct User {
  UserId id = 0;
  std::string username;
  std::string password_hash;  // argon2id, libsodium's crypto_pwhash_str format
  bool is_admin = false;
  absl::Time created_at = absl::UnixEpoch();
};

// A login session or a machine token. Only the hash of the token is stored.
struct ApiToken {
  std::string token_hash;  // hex SHA-256 of the bearer token
  UserId user_id = 0;
  std::string kind;  // "session" or "api"
  absl::Time created_at = absl::UnixEpoch();
  absl::Time expires_at = absl::InfiniteFuture();
};

}  // namespace hera::core
