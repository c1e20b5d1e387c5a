#include "api/auth.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"

namespace hera::api {
namespace {

constexpr absl::Duration kSessionLifetime = absl::Hours(24 * 7);

std::string Hex(const unsigned char* bytes, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

std::string RandomText(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return Hex(buf.data(), buf.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Auth>> Auth::Create(core::Store* store, const Clock* clock) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  std::unique_ptr<Auth> auth(new Auth(store, clock));
  auto dummy = HashPassword(RandomText(16));
  if (!dummy.ok()) return dummy.status();
  auth->dummy_hash_ = *std::move(dummy);
  return auth;
}

bool Auth::EnterCheck() {
  std::unique_lock lock(checks_mu_);
  if (checks_running_ >= kMaxConcurrentChecks && checks_waiting_ >= kMaxWaitingChecks) {
    return false;
  }
  ++checks_waiting_;
  checks_free_.wait(lock, [this] { return checks_running_ < kMaxConcurrentChecks; });
  --checks_waiting_;
  ++checks_running_;
  return true;
}

void Auth::LeaveCheck() {
  {
    std::lock_guard lock(checks_mu_);
    --checks_running_;
  }
  checks_free_.notify_one();
}

absl::StatusOr<std::string> Auth::HashPassword(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  // Interactive limits: ~64 MiB and a fraction of a second, the libsodium recommendation for
  // logins.
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("out of memory while hashing a password");
  }
  return std::string(out);
}

bool Auth::VerifyPassword(const std::string& hash, const std::string& password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string Auth::TokenHash(const std::string& token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return Hex(digest, sizeof digest);
}

absl::StatusOr<std::optional<std::string>> Auth::EnsureAdmin(const std::string& password) {
  auto count = store_->CountUsers();
  if (!count.ok()) return count.status();
  if (*count > 0) return std::optional<std::string>();
  const bool generated = password.empty();
  const std::string pw = generated ? RandomText(9) : password;
  auto hash = HashPassword(pw);
  if (!hash.ok()) return hash.status();
  core::User admin;
  admin.username = "admin";
  admin.password_hash = *hash;
  admin.is_admin = true;
  admin.created_at = clock_->Now();
  auto created = store_->CreateUser(admin);
  if (!created.ok()) return created.status();
  return generated ? std::optional<std::string>(pw) : std::nullopt;
}

absl::StatusOr<std::string> Auth::Login(const std::string& username, const std::string& password,
                                        const std::string& address,
                                        absl::Duration* retry_after) {
  const absl::Duration wait = throttle_.WaitFor(username, address, clock_->Now());
  if (wait > absl::ZeroDuration()) {
    const int64_t seconds = absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1)));
    if (retry_after) *retry_after = absl::Seconds(seconds);
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many failed logins for this user or from this address; try again in ", seconds,
        " s"));
  }
  if (!EnterCheck()) {
    if (retry_after) *retry_after = absl::Seconds(1);
    return absl::ResourceExhaustedError("too many logins at once; try again in 1 s");
  }
  auto user = store_->GetUserByName(username);
  // An unknown user is checked against a dummy hash: the same answer after the same work.
  const bool right = VerifyPassword(user.ok() ? user->password_hash : dummy_hash_, password);
  LeaveCheck();
  if (!user.ok() && !absl::IsNotFound(user.status())) return user.status();
  if (!user.ok() || !right) {
    throttle_.RecordFailure(username, address, clock_->Now());
    return absl::UnauthenticatedError("wrong username or password");
  }
  throttle_.RecordSuccess(username);
  const std::string token = RandomText(32);
  core::ApiToken t;
  t.token_hash = TokenHash(token);
  t.user_id = user->id;
  t.kind = "session";
  t.created_at = clock_->Now();
  t.expires_at = t.created_at + kSessionLifetime;
  if (auto st = store_->SaveToken(t); !st.ok()) return st;
  return token;
}

absl::Status Auth::Logout(const std::string& token) {
  return store_->DeleteToken(TokenHash(token));
}

absl::StatusOr<core::User> Auth::Authenticate(const std::string& token) {
  if (token.empty()) {
    return absl::UnauthenticatedError("missing bearer token: log in first (POST /api/v1/auth/login)");
  }
  auto t = store_->GetToken(TokenHash(token));
  if (!t.ok()) {
    if (absl::IsNotFound(t.status())) return absl::UnauthenticatedError("invalid token");
    return t.status();
  }
  if (t->expires_at <= clock_->Now()) return absl::UnauthenticatedError("the session has expired");
  return store_->GetUser(t->user_id);
}

}  // namespace hera::api
