#include "core/job_graph.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <queue>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hera::core {

JobGraph::JobGraph(const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    ids_.push_back(e.id);
    ids_.insert(ids_.end(), e.upstream.begin(), e.upstream.end());
  }
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
  const size_t n = ids_.size();
  index_.reserve(n);
  for (size_t i = 0; i < n; ++i) index_.emplace(ids_[i], i);

  // Bucket the edges per node (counting sort), then sort and dedupe each small bucket: linear
  // in practice, where one global sort of the edges would be E log E.
  std::vector<size_t> count(n + 1, 0);
  for (const Entry& e : entries) count[index_.at(e.id)] += e.upstream.size();
  std::vector<size_t> begin(n + 1, 0);
  for (size_t i = 0; i < n; ++i) begin[i + 1] = begin[i] + count[i];
  std::vector<size_t> raw(begin[n]);
  std::vector<size_t> fill(begin.begin(), begin.end() - 1);
  for (const Entry& e : entries) {
    const size_t i = index_.at(e.id);
    for (JobId u : e.upstream) raw[fill[i]++] = index_.at(u);
  }
  up_begin_.assign(n + 1, 0);
  up_.reserve(raw.size());
  for (size_t i = 0; i < n; ++i) {
    auto first = raw.begin() + static_cast<std::ptrdiff_t>(begin[i]);
    auto last = raw.begin() + static_cast<std::ptrdiff_t>(begin[i + 1]);
    std::sort(first, last);
    up_.insert(up_.end(), first, std::unique(first, last));
    up_begin_[i + 1] = up_.size();
  }

  // Transpose. Visiting nodes in ascending order leaves every downstream list sorted.
  down_begin_.assign(n + 1, 0);
  for (size_t u : up_) ++down_begin_[u + 1];
  for (size_t i = 0; i < n; ++i) down_begin_[i + 1] += down_begin_[i];
  down_.resize(up_.size());
  std::vector<size_t> next(down_begin_.begin(), down_begin_.end() - 1);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = up_begin_[i]; k < up_begin_[i + 1]; ++k) down_[next[up_[k]]++] = i;
  }

  up_ids_.reserve(up_.size());
  for (size_t u : up_) up_ids_.push_back(ids_[u]);
  down_ids_.reserve(down_.size());
  for (size_t d : down_) down_ids_.push_back(ids_[d]);
}

JobGraph JobGraph::FromJobs(const std::vector<const Job*>& jobs) {
  std::vector<Entry> entries;
  entries.reserve(jobs.size());
  for (const Job* job : jobs) {
    assert(job != nullptr);
    Entry e{job->id, {}};
    e.upstream.reserve(job->schedule.depends_on.size());
    for (const Dependency& d : job->schedule.depends_on) e.upstream.push_back(d.job_id);
    entries.push_back(std::move(e));
  }
  return JobGraph(entries);
}

size_t JobGraph::IndexOf(JobId id) const {
  auto it = index_.find(id);
  return it == index_.end() ? kNone : it->second;
}

std::span<const JobId> JobGraph::upstream(JobId id) const {
  const size_t i = IndexOf(id);
  if (i == kNone) return {};
  return std::span<const JobId>(up_ids_).subspan(up_begin_[i], up_begin_[i + 1] - up_begin_[i]);
}

std::span<const JobId> JobGraph::downstream(JobId id) const {
  const size_t i = IndexOf(id);
  if (i == kNone) return {};
  return std::span<const JobId>(down_ids_).subspan(down_begin_[i],
                                                   down_begin_[i + 1] - down_begin_[i]);
}

absl::StatusOr<std::vector<JobId>> JobGraph::TopologicalOrder() const {
  const size_t n = ids_.size();
  std::vector<size_t> waiting(n);  // upstreams not yet emitted
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i) {
    waiting[i] = up_begin_[i + 1] - up_begin_[i];
    if (waiting[i] == 0) ready.push(i);
  }
  std::vector<JobId> order;
  order.reserve(n);
  while (!ready.empty()) {
    const size_t i = ready.top();
    ready.pop();
    order.push_back(ids_[i]);
    for (size_t k = down_begin_[i]; k < down_begin_[i + 1]; ++k) {
      if (--waiting[down_[k]] == 0) ready.push(down_[k]);
    }
  }
  if (order.size() != n) {
    const std::optional<std::vector<JobId>> cycle = FindCycle();
    assert(cycle.has_value());
    return absl::FailedPreconditionError(
        absl::StrCat("jobs form a cycle: ", FormatCyclePath(cycle.value_or(std::vector<JobId>{}))));
  }
  return order;
}

std::optional<std::vector<JobId>> JobGraph::FindCycle() const {
  // Iterative depth-first search along "depends on" edges; a grey node met again closes a
  // cycle, which is the grey stack from that node on.
  enum Color : unsigned char { kWhite, kGrey, kBlack };
  const size_t n = ids_.size();
  std::vector<Color> color(n, kWhite);
  std::vector<std::pair<size_t, size_t>> stack;  // (node, next edge to follow)
  for (size_t root = 0; root < n; ++root) {
    if (color[root] != kWhite) continue;
    color[root] = kGrey;
    stack.emplace_back(root, up_begin_[root]);
    while (!stack.empty()) {
      auto& [node, edge] = stack.back();
      if (edge == up_begin_[node + 1]) {
        color[node] = kBlack;
        stack.pop_back();
        continue;
      }
      const size_t next = up_[edge++];
      if (color[next] == kWhite) {
        color[next] = kGrey;
        stack.emplace_back(next, up_begin_[next]);
      } else if (color[next] == kGrey) {
        std::vector<JobId> cycle;
        size_t k = stack.size();
        while (stack[k - 1].first != next) --k;
        for (; k <= stack.size(); ++k) cycle.push_back(ids_[stack[k - 1].first]);
        // Start from the lowest id, so the same cycle is always written the same way.
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        cycle.push_back(cycle.front());
        return cycle;
      }
    }
  }
  return std::nullopt;
}

std::vector<JobGraph::Reached> JobGraph::Closure(JobId id, int max_depth, bool up) const {
  std::vector<Reached> out;
  const size_t start = IndexOf(id);
  if (start == kNone || max_depth <= 0) return out;
  const std::vector<size_t>& begin = up ? up_begin_ : down_begin_;
  const std::vector<size_t>& edges = up ? up_ : down_;
  std::vector<bool> seen(ids_.size(), false);
  seen[start] = true;
  // Breadth-first, one level at a time; each level is sorted by id (index order) on output.
  std::vector<size_t> level{start}, next_level;
  for (int depth = 1; depth <= max_depth && !level.empty(); ++depth) {
    next_level.clear();
    for (size_t i : level) {
      for (size_t k = begin[i]; k < begin[i + 1]; ++k) {
        if (!seen[edges[k]]) {
          seen[edges[k]] = true;
          next_level.push_back(edges[k]);
        }
      }
    }
    std::sort(next_level.begin(), next_level.end());
    for (size_t i : next_level) out.push_back({ids_[i], depth});
    level.swap(next_level);
  }
  return out;
}

std::vector<JobGraph::Reached> JobGraph::UpstreamClosure(JobId id, int max_depth) const {
  return Closure(id, max_depth, /*up=*/true);
}

std::vector<JobGraph::Reached> JobGraph::DownstreamClosure(JobId id, int max_depth) const {
  return Closure(id, max_depth, /*up=*/false);
}

std::optional<std::vector<JobId>> FindCycleIfSaved(const JobGraph& graph, JobId job,
                                                   const std::vector<JobId>& new_upstreams) {
  std::vector<JobId> sources = new_upstreams;
  std::sort(sources.begin(), sources.end());
  sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
  if (std::binary_search(sources.begin(), sources.end(), job)) return std::vector<JobId>{job, job};
  const size_t target = graph.IndexOf(job);
  if (target == JobGraph::kNone) return std::nullopt;  // nothing can depend on it yet

  // Breadth-first from the new upstreams along "depends on" edges until a node that depends on
  // `job`: the first one popped closes the shortest cycle. Traversal never passes through
  // `job`, so its current upstreams (which the save replaces) play no part.
  const size_t n = graph.size();
  std::vector<size_t> parent(n, JobGraph::kNone);
  std::vector<bool> seen(n, false);
  std::queue<size_t> queue;
  for (JobId s : sources) {
    const size_t i = graph.IndexOf(s);
    if (i == JobGraph::kNone || seen[i]) continue;
    seen[i] = true;
    queue.push(i);
  }
  seen[target] = true;
  while (!queue.empty()) {
    const size_t i = queue.front();
    queue.pop();
    for (size_t k = graph.up_begin_[i]; k < graph.up_begin_[i + 1]; ++k) {
      const size_t u = graph.up_[k];
      if (u == target) {
        std::vector<JobId> path{job};
        std::vector<JobId> back;
        for (size_t p = i; p != JobGraph::kNone; p = parent[p]) back.push_back(graph.ids_[p]);
        path.insert(path.end(), back.rbegin(), back.rend());
        path.push_back(job);
        return path;
      }
      if (!seen[u]) {
        seen[u] = true;
        parent[u] = i;
        queue.push(u);
      }
    }
  }
  return std::nullopt;
}

std::string FormatCyclePath(const std::vector<JobId>& cycle) {
  std::string out;
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (i > 0) out += " → ";
    absl::StrAppend(&out, cycle[i]);
  }
  return out;
}

std::string DescribeCycleIfSaved(JobId job, const std::vector<JobId>& cycle) {
  return absl::StrCat("saving job ", job, " would close the cycle ", FormatCyclePath(cycle));
}

}  // namespace hera::core
