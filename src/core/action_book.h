#pragma once
// The actions the scheduler is tracking and how far each is from being ready (SEMANTICS.md §3).
// Readiness is event-driven: each action counts its upstream actions that have not succeeded;
// an upstream success decrements the counts of exactly its downstream actions, so the cost of
// an event is proportional to the edges it touches. Pure; not thread-safe (engine thread).

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/time/time.h"
#include "core/action_planner.h"
#include "core/model.h"

namespace hera::core {

class ActionBook {
 public:
  // Adds or replaces `action`. Upstream ids not in the book count as unmet unless they were
  // declared succeeded with MarkExternalSuccess().
  void Put(Action action);
  // Makes room for `n` more actions, so that planning millions at once does not rehash.
  void Reserve(size_t n) { actions_.reserve(actions_.size() + n); }
  // Forgets action `id` (and its edges).
  void Remove(ActionId id);
  // An upstream action outside the book that is known to have succeeded.
  void MarkExternalSuccess(ActionId id) { external_success_.insert(id); }

  const Action* Find(ActionId id) const;
  Action* FindMutable(ActionId id);
  std::optional<ActionId> FindByKey(const ActionKey& key) const;
  // Every action of `job` in the book, by time.
  std::vector<const Action*> OfJob(JobId job) const;
  size_t size() const { return actions_.size(); }

  // Why `id` cannot run even when its linked upstreams succeed (an upstream without a
  // matching action), or "" (SEMANTICS.md §2).
  void SetBlocked(ActionId id, const std::string& reason);
  const std::string& blocked(ActionId id) const;

  // Upstream actions of `id` that have not succeeded yet.
  int unmet(ActionId id) const;
  // The ids of the actions linked downstream of `id`.
  const std::vector<ActionId>& downstream(ActionId id) const;

  // Records that `id` succeeded: returns the downstream actions whose last unmet upstream it
  // was. A repeated success changes nothing.
  std::vector<ActionId> OnSuccess(ActionId id);
  // Records that `id`, which had succeeded, is running again (recovery): its downstream
  // actions wait for it anew.
  void OnRerun(ActionId id);

  // Pending actions whose time is at or before `now`, removed from the timer, by time.
  std::vector<ActionId> TakeDue(absl::Time now);
  // The earliest time an action is pending for, if any.
  std::optional<absl::Time> NextDue() const;

 private:
  struct Entry {
    Action action;
    int unmet = 0;
  };
  bool Succeeded(ActionId id) const;
  void Link(ActionId id, const Entry& entry);
  void Unlink(ActionId id, const Entry& entry);

  // Node-based: callers keep Action pointers across inserts.
  absl::node_hash_map<ActionId, Entry> actions_;
  // B-trees, not red-black trees: millions of actions are planned at start, and a node per
  // entry was most of that time (allocation and cache misses).
  absl::btree_map<ActionKey, ActionId> by_key_;
  absl::node_hash_map<ActionId, std::vector<ActionId>> downstream_;
  absl::btree_set<std::pair<absl::Time, ActionId>> timers_;  // pending actions by time
  std::set<ActionId> external_success_;
  std::unordered_map<ActionId, std::string> blocked_;
};

}  // namespace hera::core
