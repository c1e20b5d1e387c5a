#include "master/secret_box.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fd_io.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace hera::master {
namespace {

constexpr size_t kNonceBytes = crypto_secretbox_NONCEBYTES;
constexpr int kBase64 = sodium_base64_VARIANT_ORIGINAL;

absl::Status InitSodium() {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  return absl::OkStatus();
}

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(AsAbsl(what), " ", path, ": ", std::strerror(errno)));
}

// Writes a new random key to `path` through a temporary file, so a crash never leaves a
// short key behind (which would then refuse to load).
absl::Status CreateKeyFile(const std::string& path, std::array<unsigned char, 32>* key) {
  randombytes_buf(key->data(), key->size());
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // left by a crash during a previous first start
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Errno("cannot create", tmp);
  const std::string_view bytes(reinterpret_cast<const char*>(key->data()), key->size());
  if (auto st = WriteAll(fd.get(), bytes); !st.ok()) {
    return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", st.message()));
  }
  if (::fsync(fd.get()) != 0) return Errno("cannot sync", tmp);
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename to", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SecretBox> SecretBox::LoadOrCreate(const std::string& path) {
  static_assert(kKeyBytes == 32);
  if (auto st = InitSodium(); !st.ok()) return st;
  SecretBox box;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid() && errno == ENOENT) {
    if (auto st = CreateKeyFile(path, &box.key_); !st.ok()) return st;
    return box;
  }
  if (!fd.valid()) return Errno("cannot open the secret key", path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat the secret key", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the secret key ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the secret key %s has mode %04o; it must be readable by its owner only "
                        "(chmod 600 %s)",
                        path, st.st_mode & 07777, path));
  }
  if (st.st_size != static_cast<off_t>(kKeyBytes)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the secret key ", path, " is ", st.st_size, " bytes, not ", kKeyBytes,
        ": it is damaged or not a Hera key (secrets stored with the old key cannot be read "
        "without it)"));
  }
  size_t got = 0;
  while (got < kKeyBytes) {
    const ssize_t n = ::read(fd.get(), box.key_.data() + got, kKeyBytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("cannot read the secret key", path);
    got += static_cast<size_t>(n);
  }
  return box;
}

absl::StatusOr<SecretBox> SecretBox::FromKey(std::string_view key) {
  if (auto st = InitSodium(); !st.ok()) return st;
  if (key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a secret key is ", kKeyBytes, " bytes, not ", key.size()));
  }
  SecretBox box;
  std::memcpy(box.key_.data(), key.data(), kKeyBytes);
  return box;
}

SecretBox::SecretBox(SecretBox&& other) noexcept : key_(other.key_) {
  sodium_memzero(other.key_.data(), other.key_.size());
}

SecretBox& SecretBox::operator=(SecretBox&& other) noexcept {
  key_ = other.key_;
  sodium_memzero(other.key_.data(), other.key_.size());
  return *this;
}

SecretBox::~SecretBox() { sodium_memzero(key_.data(), key_.size()); }

bool SecretBox::LooksSealed(std::string_view value) {
  return absl::StartsWith(AsAbsl(value), AsAbsl(kSealedPrefix));
}

std::string SecretBox::Seal(std::string_view plaintext) const {
  std::vector<unsigned char> raw(kNonceBytes + crypto_secretbox_MACBYTES + plaintext.size());
  randombytes_buf(raw.data(), kNonceBytes);
  crypto_secretbox_easy(raw.data() + kNonceBytes,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        raw.data(), key_.data());
  std::string b64(sodium_base64_encoded_len(raw.size(), kBase64), '\0');
  sodium_bin2base64(b64.data(), b64.size(), raw.data(), raw.size(), kBase64);
  b64.resize(std::strlen(b64.c_str()));
  return absl::StrCat(AsAbsl(kSealedPrefix), b64);
}

absl::StatusOr<std::string> SecretBox::Open(std::string_view sealed) const {
  if (!LooksSealed(sealed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an encrypted secret (no '", AsAbsl(kSealedPrefix), "' prefix)"));
  }
  const std::string_view b64 = sealed.substr(kSealedPrefix.size());
  std::vector<unsigned char> raw(b64.size());
  size_t len = 0;
  if (sodium_base642bin(raw.data(), raw.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                        kBase64) != 0) {
    return absl::InvalidArgumentError("an encrypted secret that is not valid base64");
  }
  if (len < kNonceBytes + crypto_secretbox_MACBYTES) {
    return absl::InvalidArgumentError("an encrypted secret too short to hold its nonce and tag");
  }
  std::string plain(len - kNonceBytes - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 raw.data() + kNonceBytes, len - kNonceBytes, raw.data(),
                                 key_.data()) != 0) {
    return absl::DataLossError(
        "an encrypted secret does not decrypt with this server's key (altered, or sealed "
        "under another secret.key)");
  }
  return plain;
}

}  // namespace hera::master
