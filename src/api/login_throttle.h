#pragma once
// Slows password guessing down (DESIGN.md §10): failed logins are counted per user name and per
// client address, and past a few free ones each further attempt must wait, twice as long after
// each failure, up to a cap. The right password still gets through once the wait is over, so a
// user whose name is being attacked is delayed, never locked out. Thread-safe; memory is
// bounded whatever names and addresses an attacker sends.

#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"

namespace hera::api {

struct LoginThrottleOptions {
  int free_failures_per_user = 5;      // failures allowed before waits begin
  int free_failures_per_address = 20;  // one address may mistype for several users
  absl::Duration first_wait = absl::Seconds(1);  // doubles with each further failure
  absl::Duration max_wait = absl::Seconds(60);
  absl::Duration forget_after = absl::Minutes(15);  // failures older than this no longer count
  size_t max_tracked = 100000;  // names and addresses remembered at most (oldest go first)
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options = {}) : options_(options) {}

  // How long a login as `user` from `address` must still wait at `now`; zero: it may try now.
  absl::Duration WaitFor(const std::string& user, const std::string& address, absl::Time now);
  // A wrong password (or unknown user) as `user` from `address` at `now`.
  void RecordFailure(const std::string& user, const std::string& address, absl::Time now);
  // A successful login: the user's failures are forgotten (the address's are not: one address
  // guessing many names learns nothing from a success of its own).
  void RecordSuccess(const std::string& user);
  // Names and addresses remembered now (at most twice options.max_tracked).
  size_t tracked();

 private:
  struct Failures {
    int count = 0;
    absl::Time last = absl::InfinitePast();
  };
  using Table = std::map<std::string, Failures>;
  absl::Duration WaitIn(Table& table, const std::string& key, int free, absl::Time now);
  void Add(Table& table, const std::string& key, absl::Time now);

  const LoginThrottleOptions options_;
  std::mutex mu_;
  Table by_user_;     // guarded by mu_
  Table by_address_;  // guarded by mu_
};

}  // namespace hera::api
