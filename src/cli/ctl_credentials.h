#pragma once
// The session `hera ctl login` saves: <config-dir>/credentials.json, mode 0600 in a 0700 dir.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hera::cli {

struct Credentials {
  std::string server;  // normalized base URL the token belongs to
  std::string token;
  std::string username;
};

// $XDG_CONFIG_HOME/hera, else $HOME/.config/hera (HOME from the passwd entry when unset).
std::string DefaultConfigDir();

// The path of the credentials file inside `config_dir`.
std::string CredentialsPath(const std::string& config_dir);

// Returns nullopt when no file exists; InvalidArgument when it exists but is not valid.
absl::StatusOr<std::optional<Credentials>> LoadCredentials(const std::string& config_dir);

// Writes the file atomically (temporary file + rename) with mode 0600, creating `config_dir`
// (and missing parents) with mode 0700. An existing directory's mode is left alone.
absl::Status SaveCredentials(const std::string& config_dir, const Credentials& creds);

// Removes the file. Returns false when there was none.
absl::StatusOr<bool> RemoveCredentials(const std::string& config_dir);

}  // namespace hera::cli
