#pragma once
// The dependency graph of jobs (SEMANTICS.md §2): which job waits for which, in which order
// jobs can be planned, and which cycle a save would close.
//
// Direction. An edge goes from an upstream to the job that depends on it. Cycles are written
// in the "depends on" direction, starting from the job being saved: "5 → 3 → 7 → 5" reads
// "5 depends on 3, which depends on 7, which depends on 5" — its first hop is the edge the
// save adds.
//
// Pure (no IO, clock or threads) and immutable once built: safe to share across threads.

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"

namespace hera::core {

class JobGraph {
 public:
  // One job and the jobs it depends on.
  struct Entry {
    JobId id = 0;
    std::vector<JobId> upstream;
  };
  // A job reached from another, `depth` edges away (1: a direct upstream or downstream).
  struct Reached {
    JobId job = 0;
    int depth = 0;
    bool operator==(const Reached&) const = default;
  };
  static constexpr int kNoDepthLimit = std::numeric_limits<int>::max();

  JobGraph() = default;
  // Builds the graph of `entries`. An upstream id that is not itself an entry becomes a node
  // without upstreams; repeated edges count once; a repeated entry id merges its upstreams.
  explicit JobGraph(const std::vector<Entry>& entries);
  // The graph of `jobs` (each job's schedule.depends_on; enabled or not). REQUIRES: no null.
  static JobGraph FromJobs(const std::vector<const Job*>& jobs);

  size_t size() const { return ids_.size(); }
  bool contains(JobId id) const { return index_.contains(id); }
  // Every node, ascending.
  const std::vector<JobId>& ids() const { return ids_; }

  // Direct upstreams / downstreams of `id`, ascending; empty for an unknown id.
  std::span<const JobId> upstream(JobId id) const;
  std::span<const JobId> downstream(JobId id) const;

  // Every node, each after all of its upstreams; among the nodes ready at one point the lowest
  // id comes first, so the order is deterministic. FailedPrecondition naming a cycle
  // ("jobs form a cycle: 3 → 7 → 3") when there is one. O(E + V log V).
  absl::StatusOr<std::vector<JobId>> TopologicalOrder() const;

  // A cycle of the graph as a closed path in the "depends on" direction ("3 → 7 → 3" is
  // {3, 7, 3}), starting from its lowest id; nullopt when the graph is acyclic. O(V + E).
  std::optional<std::vector<JobId>> FindCycle() const;

  // The jobs `id` depends on (UpstreamClosure) or that depend on it (DownstreamClosure),
  // transitively, at most `max_depth` edges away, `id` itself excluded; each with its shortest
  // distance, ordered by depth then id. Empty for an unknown id or max_depth <= 0. O(V + E).
  std::vector<Reached> UpstreamClosure(JobId id, int max_depth = kNoDepthLimit) const;
  std::vector<Reached> DownstreamClosure(JobId id, int max_depth = kNoDepthLimit) const;

 private:
  friend std::optional<std::vector<JobId>> FindCycleIfSaved(const JobGraph&, JobId,
                                                            const std::vector<JobId>&);
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();

  size_t IndexOf(JobId id) const;
  std::vector<Reached> Closure(JobId id, int max_depth, bool up) const;

  // Nodes are dense indices in ascending id order, so index order is id order.
  std::vector<JobId> ids_;
  std::unordered_map<JobId, size_t> index_;
  // Compressed adjacency: node i's upstreams are up_[up_begin_[i] .. up_begin_[i + 1]),
  // as indices (up_) and as ids (up_ids_, for the spans the accessors return); same for down.
  std::vector<size_t> up_begin_, up_;
  std::vector<JobId> up_ids_;
  std::vector<size_t> down_begin_, down_;
  std::vector<JobId> down_ids_;
};

// The cycle that saving `job` with `new_upstreams` (replacing its current ones) would close:
// the shortest one, as the path job → upstream → … → job ({5, 3, 7, 5}); nullopt when the save
// keeps the graph acyclic (cycles that do not pass through `job` are not its concern).
// `job` need not be in the graph yet. O(V + E).
std::optional<std::vector<JobId>> FindCycleIfSaved(const JobGraph& graph, JobId job,
                                                   const std::vector<JobId>& new_upstreams);

// "5 → 3 → 7 → 5".
std::string FormatCyclePath(const std::vector<JobId>& cycle);
// "saving job 5 would close the cycle 5 → 3 → 7 → 5".
std::string DescribeCycleIfSaved(JobId job, const std::vector<JobId>& cycle);

}  // namespace hera::core
