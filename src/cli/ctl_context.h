#pragma once
// Shared by the ctl_*_commands.cc files (not used outside src/cli): the global flags of
// `hera ctl`, the server and token they resolve to, and output helpers.

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/ctl_api.h"
#include "cli/ctl_credentials.h"
#include "cli/ctl_http_client.h"

namespace hera::cli {

// One per `ctl` registration; CLI11 fills the flag fields during parsing, before any command
// callback runs. Not thread-safe.
class CtlContext {
 public:
  // Global flags. An Option's count() tells whether the flag or its env variable was given.
  std::string server_flag;
  CLI::Option* server_opt = nullptr;
  std::string token_flag;
  CLI::Option* token_opt = nullptr;
  std::string config_dir_flag;
  CLI::Option* config_dir_opt = nullptr;
  bool json = false;

  // --config-dir, $HERA_CONFIG_DIR, else DefaultConfigDir().
  std::string ConfigDir() const;
  // The saved session, nullopt when there is none. Error when the file is unreadable/corrupt.
  absl::StatusOr<std::optional<Credentials>> Saved() const;
  // --server, $HERA_SERVER, the saved session's server, else kDefaultServer. Normalized.
  absl::StatusOr<std::string> Server() const;
  // A client for Server() with --token/$HERA_TOKEN, else the saved token when it was issued by
  // that same server (never send one server's token to another). Owned by the context.
  absl::StatusOr<ApiClient*> Api();
  HttpClient* http() { return &http_; }

 private:
  HttpClient http_;
  std::optional<ApiClient> api_;
};

// Runs a command: on error prints "error: <message>" to stderr and throws
// CLI::RuntimeError(ExitCodeFor(status)). Exceptions from JSON access become errors too.
void RunCommand(const std::function<absl::Status()>& command);

// Writes to stdout as-is.
void Print(std::string_view text);
// Pretty-printed JSON and a newline on stdout (for --json).
void PrintJson(const Json& j);
// Whether human output on stdout may use colours.
bool StdoutColor();

// `flag` was given on the command line or through its environment variable.
inline bool Given(const CLI::Option* opt) { return opt != nullptr && opt->count() > 0; }

void AddGroupCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx);
void AddJobCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx);
void AddRunCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx);
// rerun start|list|show|stop|failed.
void AddRerunCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx);
void AddBackfillCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx);
void AddWorkerCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx);
// resource upload|list|show.
void AddResourceCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx);
// job enable|disable|actions|recover, under the `job` command.
void AddScheduleCommands(CLI::App* job, const std::shared_ptr<CtlContext>& ctx);
// job revisions|diff|restore|graph, under the `job` command.
void AddHistoryCommands(CLI::App* job, const std::shared_ptr<CtlContext>& ctx);
// job configs|preview, under the `job` command.
void AddRenderCommands(CLI::App* job, const std::shared_ptr<CtlContext>& ctx);

}  // namespace hera::cli
