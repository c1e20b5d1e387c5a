#pragma once
// The definitions users edit: the group tree and the jobs in it, with every rule a save must
// obey (names unique among siblings, parents exist, no deleting what is in use). Pure and
// single-threaded: the engine thread owns it.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/job_zone.h"
#include "core/model.h"
#include "core/store.h"

namespace hera::core {

class Catalog {
 public:
  // Rebuilds the catalog from stored groups and jobs.
  void Load(std::vector<Group> groups, std::vector<Job> jobs);

  const Group* FindGroup(GroupId id) const;
  const Job* FindJob(JobId id) const;
  size_t job_count() const { return jobs_.size(); }
  // Every job / job id, by id.
  std::vector<const Job*> AllJobs() const;
  std::vector<JobId> JobIds() const;
  // The jobs that depend directly on `id`, by id.
  std::vector<JobId> Dependents(JobId id) const;
  // `id` and every job downstream of it, transitively. O(what it returns).
  std::vector<JobId> WithDownstream(JobId id) const;
  // The zone `job`'s times and macros are in (core/job_zone.h), with its upstreams as they are
  // now.
  JobZone ZoneOf(const Job& job) const;
  // ZoneOf(job).name without building the reason: the hot path of every dispatch.
  std::string ZoneNameOf(const Job& job) const;
  // Every job id, each after the jobs it depends on (saves refuse cycles). O(V + E).
  std::vector<JobId> UpstreamFirst() const;
  // The jobs `id` depends on (up) or that depend on it (down), transitively, at most
  // `max_depth` edges away, `id` excluded; each with its shortest distance, by depth then id.
  // O(what it returns and their edges), whatever the size of the catalog.
  std::vector<std::pair<JobId, int>> Around(JobId id, bool up, int max_depth) const;

  // Validates `body` as a new group and returns it (id `id`), without changing the catalog.
  absl::StatusOr<Group> PrepareNewGroup(GroupId id, const nlohmann::json& body,
                                        const std::string& actor, absl::Time now) const;
  // Validates a change to group `id` and returns the changed group, without applying it.
  absl::StatusOr<Group> PrepareGroupUpdate(GroupId id, const nlohmann::json& body,
                                           absl::Time now) const;
  // Ok if group `id` exists and holds no job and no group.
  absl::Status CheckGroupDeletable(GroupId id) const;

  // Validates `body` as a new job (id `id`) and returns it, without changing the catalog.
  absl::StatusOr<Job> PrepareNewJob(JobId id, const nlohmann::json& body,
                                    const std::string& actor, absl::Time now) const;
  // Validates a PATCH of job `id` and returns the changed job (version + 1).
  absl::StatusOr<Job> PrepareJobUpdate(JobId id, const nlohmann::json& body,
                                       absl::Time now) const;
  // Ok if job `id` exists, is disabled and no job depends on it.
  absl::Status CheckJobDeletable(JobId id) const;

  void PutGroup(const Group& group);
  void RemoveGroup(GroupId id);
  void PutJob(const Job& job);
  void RemoveJob(JobId id);

 private:
  // The rules a job obeys when saved at `now`; `previous` is its stored version (null: new).
  absl::Status CheckJob(const Job& job, const Job* previous, absl::Time now) const;
  absl::Status CheckGroupPlacement(const Group& group) const;

  std::map<GroupId, Group> groups_;
  std::map<JobId, Job> jobs_;
  // (group, name) → job: the uniqueness of job names inside a group.
  std::map<std::pair<GroupId, std::string>, JobId> job_names_;
  // job → the jobs that depend on it: saves touch only the part of the graph they change.
  std::map<JobId, std::set<JobId>> dependents_;
  // Upstream zones found by ZoneOf, valid until a job changes (PutJob, RemoveJob, Load).
  mutable std::map<JobId, JobZone> zone_memo_;
  // The cycle saving `job` with `upstreams` would close ({job, …, job}), or empty.
  std::vector<JobId> CycleIfSaved(JobId job, const std::vector<JobId>& upstreams) const;
};

// The revision a save of `job` records; `previous` is null for the first one.
JobRevision MakeRevision(const Job& job, const Job* previous, const std::string& author,
                         absl::Time now);

}  // namespace hera::core
