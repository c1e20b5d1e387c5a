#pragma once
// Users and tokens: argon2id password hashes (libsodium), random bearer tokens of which only
// a SHA-256 is stored, and the first admin account. Thread-safe.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
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

  // Checks a username and password and returns a new session token (Unauthenticated if wrong).
  absl::StatusOr<std::string> Login(const std::string& username, const std::string& password);
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

  core::Store* const store_;
  const Clock* const clock_;
};

}  // namespace hera::api
