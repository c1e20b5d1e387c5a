#include "api/login_throttle.h"

#include <algorithm>

namespace hera::api {

absl::Duration LoginThrottle::WaitIn(Table& table, const std::string& key, int free,
                                     absl::Time now) {
  auto it = table.find(key);
  if (it == table.end()) return absl::ZeroDuration();
  if (now - it->second.last >= options_.forget_after) {
    table.erase(it);
    return absl::ZeroDuration();
  }
  const int over = it->second.count - free;
  if (over < 0) return absl::ZeroDuration();
  absl::Duration wait = options_.first_wait;
  for (int i = 0; i < over && wait < options_.max_wait; ++i) wait *= 2;
  wait = std::min(wait, options_.max_wait);
  return std::max(absl::ZeroDuration(), it->second.last + wait - now);
}

absl::Duration LoginThrottle::WaitFor(const std::string& user, const std::string& address,
                                      absl::Time now) {
  std::lock_guard lock(mu_);
  return std::max(WaitIn(by_user_, user, options_.free_failures_per_user, now),
                  WaitIn(by_address_, address, options_.free_failures_per_address, now));
}

void LoginThrottle::Add(Table& table, const std::string& key, absl::Time now) {
  if (table.size() >= options_.max_tracked && !table.count(key)) {
    // Forget what has expired; if that is not enough, the stalest entry goes.
    for (auto it = table.begin(); it != table.end();) {
      it = now - it->second.last >= options_.forget_after ? table.erase(it) : std::next(it);
    }
    if (table.size() >= options_.max_tracked) {
      table.erase(std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
        return a.second.last < b.second.last;
      }));
    }
  }
  Failures& f = table[key];
  if (now - f.last >= options_.forget_after) f.count = 0;
  ++f.count;
  f.last = now;
}

void LoginThrottle::RecordFailure(const std::string& user, const std::string& address,
                                  absl::Time now) {
  std::lock_guard lock(mu_);
  Add(by_user_, user, now);
  Add(by_address_, address, now);
}

void LoginThrottle::RecordSuccess(const std::string& user) {
  std::lock_guard lock(mu_);
  by_user_.erase(user);
}

size_t LoginThrottle::tracked() {
  std::lock_guard lock(mu_);
  return by_user_.size() + by_address_.size();
}

}  // namespace hera::api
