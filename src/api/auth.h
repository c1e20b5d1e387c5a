#pragma once
// Users and tokens: argon2id password hashes (libsodium), random bearer tokens of which only
// a SHA-256 is stored, and the first admin account. Thread-safe.

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "api/login_throttle.h"
#include "common/clock.h"
#include "core/model.h"
#include "core/store.h"

namespace hera::api {

class Auth {
 public:
  // `store` and `clock` must outlive this object. Fails if libsodium cannot start.
  static absl::StatusOr<std::unique_ptr<Auth>> Create(core::Store* store, const Clock* clock);

  // Creates user `admin` when there is no user yet, with `password` or, if empty, a random
  // one. Returns the password to print when it was generated, nullopt otherwise.
  absl::StatusOr<std::optional<std::string>> EnsureAdmin(const std::string& password);

  // Checks a username and password sent from `address` and returns a new session token.
  // Unauthenticated if wrong (the same answer, after the same work, for an unknown user);
  // ResourceExhausted, with how long to wait in `*retry_after`, while the name or the address
  // must wait after failed logins (LoginThrottle) or too many password checks are under way.
  absl::StatusOr<std::string> Login(const std::string& username, const std::string& password,
                                    const std::string& address = "",
                                    absl::Duration* retry_after = nullptr);
  // Revokes a token.
  absl::Status Logout(const std::string& token);
  // The user a bearer token belongs to (Unauthenticated if unknown or expired).
  absl::StatusOr<core::User> Authenticate(const std::string& token);

  // argon2id hash of `password` in libsodium's string format.
  static absl::StatusOr<std::string> HashPassword(const std::string& password);
  static bool VerifyPassword(const std::string& hash, const std::string& password);

 private:
  Auth(core::Store* store, const Clock* clock) : store_(store), clock_(clock) {}
  static std::string TokenHash(const std::string& token);
  // Waits for a turn to check a password; false when too many logins already wait.
  bool EnterCheck();
  void LeaveCheck();

  // Each argon2id check takes 64 MiB and a core for a moment: a few at once, a few more
  // waiting, the rest refused, so that a burst of logins cannot exhaust the memory.
  static constexpr int kMaxConcurrentChecks = 2;
  static constexpr int kMaxWaitingChecks = 16;

  core::Store* const store_;
  const Clock* const clock_;
  // The hash unknown users are checked against, so that they take as long as known ones
  // (a fast "no" would tell which user names exist).
  std::string dummy_hash_;
  LoginThrottle throttle_;
  std::mutex checks_mu_;
  std::condition_variable checks_free_;
  int checks_running_ = 0;  // guarded by checks_mu_
  int checks_waiting_ = 0;  // guarded by checks_mu_
};

}  // namespace hera::api
