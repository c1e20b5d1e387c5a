#include "core/action_book.h"

#include <algorithm>

namespace hera::core {
namespace {
const std::vector<ActionId> kNone;
const std::string kNotBlocked;
}  // namespace

bool ActionBook::Succeeded(ActionId id) const {
  auto it = actions_.find(id);
  if (it == actions_.end()) return external_success_.count(id) > 0;
  return it->second.action.status == ActionStatus::kSuccess;
}

void ActionBook::Link(ActionId id, const Entry& entry) {
  for (ActionId up : entry.action.upstream) downstream_[up].push_back(id);
  by_key_[{entry.action.job_id, entry.action.scheduled_time}] = id;
  if (entry.action.status == ActionStatus::kPending) {
    timers_.insert({entry.action.scheduled_time, id});
  }
}

void ActionBook::Unlink(ActionId id, const Entry& entry) {
  for (ActionId up : entry.action.upstream) {
    auto it = downstream_.find(up);
    if (it == downstream_.end()) continue;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), id), v.end());
    if (v.empty()) downstream_.erase(it);
  }
  by_key_.erase({entry.action.job_id, entry.action.scheduled_time});
  timers_.erase({entry.action.scheduled_time, id});
}

void ActionBook::Put(Action action) {
  const ActionId id = action.id;
  auto it = actions_.find(id);
  if (it != actions_.end()) Unlink(id, it->second);
  Entry entry;
  entry.action = std::move(action);
  for (ActionId up : entry.action.upstream) entry.unmet += Succeeded(up) ? 0 : 1;
  Link(id, entry);
  if (it != actions_.end()) {
    it->second = std::move(entry);
  } else {
    actions_.emplace(id, std::move(entry));
  }
}

void ActionBook::SetBlocked(ActionId id, const std::string& reason) {
  if (reason.empty()) {
    blocked_.erase(id);
  } else {
    blocked_[id] = reason;
  }
}

const std::string& ActionBook::blocked(ActionId id) const {
  auto it = blocked_.find(id);
  return it == blocked_.end() ? kNotBlocked : it->second;
}

void ActionBook::Remove(ActionId id) {
  blocked_.erase(id);
  auto it = actions_.find(id);
  if (it == actions_.end()) return;
  Unlink(id, it->second);
  actions_.erase(it);
}

const Action* ActionBook::Find(ActionId id) const {
  auto it = actions_.find(id);
  return it == actions_.end() ? nullptr : &it->second.action;
}

Action* ActionBook::FindMutable(ActionId id) {
  auto it = actions_.find(id);
  return it == actions_.end() ? nullptr : &it->second.action;
}

std::optional<ActionId> ActionBook::FindByKey(const ActionKey& key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

std::vector<const Action*> ActionBook::OfJob(JobId job) const {
  std::vector<const Action*> out;
  for (auto it = by_key_.lower_bound({job, absl::InfinitePast()});
       it != by_key_.end() && it->first.job == job; ++it) {
    out.push_back(&actions_.at(it->second).action);
  }
  return out;
}

int ActionBook::unmet(ActionId id) const {
  auto it = actions_.find(id);
  return it == actions_.end() ? 0 : it->second.unmet;
}

const std::vector<ActionId>& ActionBook::downstream(ActionId id) const {
  auto it = downstream_.find(id);
  return it == downstream_.end() ? kNone : it->second;
}

std::vector<ActionId> ActionBook::OnSuccess(ActionId id) {
  std::vector<ActionId> ready;
  auto it = actions_.find(id);
  if (it == actions_.end() || it->second.action.status == ActionStatus::kSuccess) return ready;
  it->second.action.status = ActionStatus::kSuccess;
  timers_.erase({it->second.action.scheduled_time, id});
  for (ActionId down : downstream(id)) {
    auto d = actions_.find(down);
    if (d == actions_.end() || d->second.unmet == 0) continue;
    if (--d->second.unmet == 0) ready.push_back(down);
  }
  return ready;
}

void ActionBook::OnRerun(ActionId id) {
  auto it = actions_.find(id);
  if (it == actions_.end() || it->second.action.status != ActionStatus::kSuccess) return;
  for (ActionId down : downstream(id)) {
    auto d = actions_.find(down);
    if (d != actions_.end()) ++d->second.unmet;
  }
}

std::vector<ActionId> ActionBook::TakeDue(absl::Time now) {
  std::vector<ActionId> due;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    due.push_back(timers_.begin()->second);
    timers_.erase(timers_.begin());
  }
  return due;
}

std::optional<absl::Time> ActionBook::NextDue() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

}  // namespace hera::core
