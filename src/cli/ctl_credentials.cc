#include "cli/ctl_credentials.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/json_text.h"
#include "common/unique_fd.h"

namespace hera::cli {
namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// mkdir -p with `mode` for every directory it creates.
absl::Status MakeDirs(const std::string& dir, mode_t mode) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(dir, " exists and is not a directory"));
    }
    return absl::OkStatus();
  }
  if (const size_t slash = dir.find_last_of('/'); slash != std::string::npos && slash > 0) {
    // Parents such as ~/.config are ordinary directories; only the last one holds secrets.
    if (auto st = MakeDirs(dir.substr(0, slash), 0755); !st.ok()) return st;
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return ErrnoError("cannot create", dir);
  // mkdir's mode is filtered by the umask; set exactly what was asked for.
  if (::chmod(dir.c_str(), mode) != 0) return ErrnoError("cannot chmod", dir);
  return absl::OkStatus();
}

}  // namespace

std::string DefaultConfigDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && xdg[0] == '/') {
    return absl::StrCat(xdg, "/hera");
  }
  const char* home = std::getenv("HOME");
  std::string home_dir = home != nullptr ? home : "";
  if (home_dir.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
      home_dir = pw->pw_dir;
    }
  }
  return absl::StrCat(home_dir, "/.config/hera");
}

std::string CredentialsPath(const std::string& config_dir) {
  return absl::StrCat(config_dir, "/credentials.json");
}

absl::StatusOr<std::optional<Credentials>> LoadCredentials(const std::string& config_dir) {
  const std::string path = CredentialsPath(config_dir);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::optional<Credentials>();
    return ErrnoError("cannot read", path);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot read", path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  const nlohmann::json j = ParseJsonText(text).value_or(nlohmann::json());
  auto str = [&j](const char* key) -> std::optional<std::string> {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  const auto server = str("server");
  const auto token = str("token");
  const auto username = str("username");
  if (!server || !token) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a valid credentials file; run 'hera ctl login' again"));
  }
  return std::optional<Credentials>(Credentials{*server, *token, username.value_or("")});
}

absl::Status SaveCredentials(const std::string& config_dir, const Credentials& creds) {
  if (auto st = MakeDirs(config_dir, 0700); !st.ok()) return st;
  const std::string path = CredentialsPath(config_dir);
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const std::string text =
      nlohmann::json{{"server", creds.server}, {"token", creds.token}, {"username", creds.username}}
          .dump(2) +
      "\n";
  {
    // O_EXCL after unlinking: never write the token through a pre-placed link or into a file
    // that someone else can already read.
    ::unlink(tmp.c_str());
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return ErrnoError("cannot create", tmp);
    if (::fchmod(fd.get(), 0600) != 0) return ErrnoError("cannot chmod", tmp);
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const absl::Status st = ErrnoError("cannot write", tmp);
        ::unlink(tmp.c_str());
        return st;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      const absl::Status st = ErrnoError("cannot sync", tmp);
      ::unlink(tmp.c_str());
      return st;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const absl::Status st = ErrnoError("cannot rename to", path);
    ::unlink(tmp.c_str());
    return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> RemoveCredentials(const std::string& config_dir) {
  const std::string path = CredentialsPath(config_dir);
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoError("cannot remove", path);
}

}  // namespace hera::cli
