#pragma once
// Encryption at rest of config secrets (`secret.*`, SEMANTICS.md §7) with libsodium's
// crypto_secretbox (XSalsa20-Poly1305) under one key per data directory.
//
// Stored form: "enc:v1:" + base64(24-byte nonce || ciphertext with its 16-byte tag). A fresh
// random nonce per value, so equal secrets do not look equal at rest.
// Immutable after creation: safe to share across threads. The key is wiped on destruction.

#include <sodium.h>

#include <array>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace hera::master {

class SecretBox {
 public:
  static constexpr std::string_view kSealedPrefix = "enc:v1:";
  static constexpr size_t kKeyBytes = crypto_secretbox_KEYBYTES;

  // The key in `path` (<data_dir>/secret.key), created at first start as kKeyBytes random
  // bytes, mode 0600. FailedPrecondition when the file is not a regular file, is readable or
  // writable by anyone but its owner, or is not kKeyBytes long: hera refuses to start rather
  // than use a leaked or damaged key. Internal for IO errors.
  static absl::StatusOr<SecretBox> LoadOrCreate(const std::string& path);
  // A box with `key` (kKeyBytes bytes, else InvalidArgument); for tests and tools.
  static absl::StatusOr<SecretBox> FromKey(std::string_view key);

  SecretBox(SecretBox&& other) noexcept;
  SecretBox& operator=(SecretBox&& other) noexcept;
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;
  ~SecretBox();

  // `plaintext` encrypted, in the stored form.
  std::string Seal(std::string_view plaintext) const;
  // The plaintext of a Seal() result. InvalidArgument when `sealed` is not in the stored form
  // (prefix, base64, length); DataLoss when it does not authenticate: tampered with, or sealed
  // under another key.
  absl::StatusOr<std::string> Open(std::string_view sealed) const;

  // True when `value` has the stored form's prefix (it may still fail to open).
  static bool LooksSealed(std::string_view value);

 private:
  SecretBox() = default;
  std::array<unsigned char, kKeyBytes> key_{};
};

}  // namespace hera::master
