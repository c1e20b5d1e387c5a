#pragma once
// The Store port: where every scheduling fact is kept (DESIGN.md §5). The store is the truth:
// the engine writes each change before acting on it, in one transaction per engine tick.
// Implementations (store/sqlite, later store/postgres) are thread-safe; reads may run on any
// thread concurrently with the engine's writes.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/model.h"

namespace hera::core {

// Everything one engine tick changes. Upserts replace the whole row by id, except for what
// places an action or a run: an action's job and scheduled time, and a run's job, action and
// queued time, are fixed when first written (the scheduler never changes them).
struct WriteBatch {
  std::vector<Group> groups;
  std::vector<GroupId> deleted_groups;
  std::vector<Job> jobs;
  std::vector<JobId> deleted_jobs;  // also deletes its revisions, actions and runs
  std::vector<JobRevision> revisions;
  std::vector<Action> actions;
  std::vector<ActionId> deleted_actions;
  std::vector<Run> runs;
  std::vector<RerunBatch> reruns;
  // Host groups that exist from now on (a job saved with "force" naming a new one).
  std::vector<std::string> host_groups;
  // Backfills as they are now, without their nodes (written through backfill_nodes).
  std::vector<Backfill> backfills;
  struct NodeRow {
    int64_t backfill_id = 0;
    int index = 0;
    BackfillNode node;
  };
  std::vector<NodeRow> backfill_nodes;  // nodes created or changed

  bool empty() const {
    return groups.empty() && deleted_groups.empty() && jobs.empty() && deleted_jobs.empty() &&
           revisions.empty() && actions.empty() && deleted_actions.empty() && runs.empty() &&
           reruns.empty() && host_groups.empty() && backfills.empty() && backfill_nodes.empty();
  }
};

// The highest id of each kind in the store; the engine allocates ids above them.
struct MaxIds {
  GroupId group = 0;
  JobId job = 0;
  ActionId action = 0;
  RunId run = 0;
  int64_t rerun = 0;
  int64_t backfill = 0;
};

struct JobFilter {
  std::optional<GroupId> group_id;
  std::string q;  // case-insensitive substring of the name; empty: any
  int64_t limit = 100;
  int64_t offset = 0;
};

struct RunFilter {
  std::optional<JobId> job_id;
  std::optional<ActionId> action_id;
  std::optional<RunStatus> status;
  std::optional<absl::Time> since;  // queued at or after
  int64_t limit = 100;
  int64_t offset = 0;
};

template <typename T>
struct Page {
  std::vector<T> items;
  int64_t total = 0;  // matches before limit/offset
};

class Store {
 public:
  virtual ~Store() = default;

  // Writes all of `batch` in one transaction, or nothing (the error says why).
  virtual absl::Status Commit(const WriteBatch& batch) = 0;
  virtual absl::StatusOr<MaxIds> LoadMaxIds() = 0;

  // Groups, ordered by id. Get* return NotFound for an unknown id.
  virtual absl::StatusOr<std::vector<Group>> ListGroups() = 0;
  virtual absl::StatusOr<Group> GetGroup(GroupId id) = 0;

  // Jobs. ListAllJobs (ordered by id) is for the engine's start-up.
  virtual absl::StatusOr<std::vector<Job>> ListAllJobs() = 0;
  virtual absl::StatusOr<Page<Job>> ListJobs(const JobFilter& filter) = 0;
  virtual absl::StatusOr<Job> GetJob(JobId id) = 0;
  // Revisions of a job, newest first.
  virtual absl::StatusOr<std::vector<JobRevision>> ListJobRevisions(JobId id) = 0;

  // Actions. ListActions: scheduled_time in [from, to), ordered by time then id.
  virtual absl::StatusOr<Action> GetAction(ActionId id) = 0;
  virtual absl::StatusOr<std::vector<Action>> ListActions(JobId job, absl::Time from,
                                                          absl::Time to) = 0;
  // Actions of every job with scheduled_time in [from, to), ordered by time then id (the
  // scheduling window the engine loads at start-up).
  virtual absl::StatusOr<std::vector<Action>> ListActionsBetween(absl::Time from,
                                                                 absl::Time to) = 0;
  // Actions scheduled before `before` whose status is not terminal, ordered by id (engine
  // start-up, which reads the window from `before` on whole).
  virtual absl::StatusOr<std::vector<Action>> ListUnfinishedActions(absl::Time before) = 0;

  // Runs. ListRuns is newest first (id descending).
  virtual absl::StatusOr<Run> GetRun(RunId id) = 0;
  virtual absl::StatusOr<Page<Run>> ListRuns(const RunFilter& filter) = 0;
  // Runs queued or running, ordered by id (engine start-up).
  virtual absl::StatusOr<std::vector<Run>> ListUnfinishedRuns() = 0;
  // Retention (history, not scheduling state: written directly, not through Commit). Up to
  // `limit` finished runs that ended before `cutoff`, the oldest first.
  virtual absl::StatusOr<std::vector<RunId>> ListRunsEndedBefore(absl::Time cutoff,
                                                                 int64_t limit) = 0;
  // Deletes the runs of `ids` that are finished; unfinished ones are kept.
  virtual absl::Status DeleteFinishedRuns(const std::vector<RunId>& ids) = 0;

  // Rerun batches. NotFound for an unknown id; ListReruns is newest first (0: every job).
  virtual absl::StatusOr<RerunBatch> GetRerun(int64_t id) = 0;
  virtual absl::StatusOr<std::vector<RerunBatch>> ListReruns(JobId job) = 0;
  // Batches still running, ordered by id (engine start-up).
  virtual absl::StatusOr<std::vector<RerunBatch>> ListUnfinishedReruns() = 0;

  // Backfills with their nodes. NotFound for an unknown id; ListBackfills is newest first.
  virtual absl::StatusOr<Backfill> GetBackfill(int64_t id) = 0;
  virtual absl::StatusOr<std::vector<Backfill>> ListBackfills(int64_t limit) = 0;
  // Backfills still running, ordered by id (engine start-up).
  virtual absl::StatusOr<std::vector<Backfill>> ListUnfinishedBackfills() = 0;

  // Users and tokens are not scheduling state: written directly, not through Commit.
  // CreateUser assigns the id; AlreadyExists when the username is taken.
  virtual absl::StatusOr<User> CreateUser(const User& user) = 0;
  virtual absl::StatusOr<User> GetUser(UserId id) = 0;
  virtual absl::StatusOr<User> GetUserByName(std::string_view username) = 0;
  virtual absl::StatusOr<int64_t> CountUsers() = 0;
  virtual absl::Status SaveToken(const ApiToken& token) = 0;
  // NotFound for an unknown hash (expiry is the caller's check).
  virtual absl::StatusOr<ApiToken> GetToken(std::string_view token_hash) = 0;
  virtual absl::Status DeleteToken(std::string_view token_hash) = 0;

  // Host groups (every group a worker declared). Adding an existing one is a no-op.
  virtual absl::Status AddHostGroups(const std::vector<std::string>& names, absl::Time now) = 0;
  virtual absl::StatusOr<std::vector<std::string>> ListHostGroups() = 0;
};

}  // namespace hera::core
