#include "cli/ctl_command.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>

#include "absl/strings/str_cat.h"
#include "cli/ctl_context.h"
#include "cli/ctl_examples.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace hera::cli {
namespace {

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads a line from the terminal with echo off. FailedPrecondition when there is no terminal.
absl::StatusOr<std::string> PromptPassword(const std::string& prompt) {
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!tty.valid()) return absl::FailedPreconditionError("no terminal to prompt for a password");
  termios saved;
  const bool have_termios = ::tcgetattr(tty.get(), &saved) == 0;
  if (have_termios) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(tty.get(), TCSAFLUSH, &quiet);
  }
  WriteAll(tty.get(), prompt);
  std::string line;
  char c;
  for (;;) {
    const ssize_t n = ::read(tty.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n' || c == '\r') break;
    line.push_back(c);
  }
  if (have_termios) ::tcsetattr(tty.get(), TCSAFLUSH, &saved);
  WriteAll(tty.get(), "\n");
  return line;
}

struct LoginFlags {
  std::string username = "admin";
  std::string password;
  CLI::Option* password_opt = nullptr;
};

absl::Status Login(CtlContext& ctx, const LoginFlags& flags) {
  std::string password = flags.password;
  if (!Given(flags.password_opt)) {
    if (!::isatty(STDIN_FILENO)) {
      return absl::InvalidArgumentError(
          "no password: pass -p PASSWORD, set HERA_PASSWORD, or run on a terminal");
    }
    HERA_ASSIGN_OR_RETURN(password,
                          PromptPassword(absl::StrCat("Password for ", flags.username, ": ")));
  }
  // A corrupt credentials file must not stop the login that replaces it.
  std::string server = kDefaultServer;
  if (Given(ctx.server_opt)) {
    server = NormalizeServer(ctx.server_flag);
  } else if (auto saved = ctx.Saved(); saved.ok() && saved->has_value()) {
    server = NormalizeServer((*saved)->server);
  }
  ApiClient api(ctx.http(), server, "");
  HERA_ASSIGN_OR_RETURN(Json resp, api.Login(flags.username, password));
  if (!resp.is_object() || !resp.contains("token") || !resp["token"].is_string()) {
    return absl::InternalError("the login response has no token");
  }
  Credentials creds{server, resp["token"].get<std::string>(), flags.username};
  if (resp.contains("user") && resp["user"].is_object() && resp["user"].contains("username") &&
      resp["user"]["username"].is_string()) {
    creds.username = resp["user"]["username"].get<std::string>();
  }
  HERA_RETURN_IF_ERROR(SaveCredentials(ctx.ConfigDir(), creds));
  if (ctx.json) {
    PrintJson(resp);
  } else {
    Print(absl::StrCat("Logged in to ", server, " as ", creds.username, "\n"));
  }
  return absl::OkStatus();
}

absl::Status Logout(CtlContext& ctx) {
  HERA_ASSIGN_OR_RETURN(bool removed, RemoveCredentials(ctx.ConfigDir()));
  if (ctx.json) {
    PrintJson(Json{{"logged_out", removed}});
  } else {
    Print(removed ? "Logged out\n" : "Not logged in\n");
  }
  return absl::OkStatus();
}

}  // namespace

std::string CtlContext::ConfigDir() const {
  if (Given(config_dir_opt) && !config_dir_flag.empty()) return config_dir_flag;
  return DefaultConfigDir();
}

absl::StatusOr<std::optional<Credentials>> CtlContext::Saved() const {
  return LoadCredentials(ConfigDir());
}

absl::StatusOr<std::string> CtlContext::Server() const {
  if (Given(server_opt) && !server_flag.empty()) return NormalizeServer(server_flag);
  HERA_ASSIGN_OR_RETURN(std::optional<Credentials> saved, Saved());
  if (saved && !saved->server.empty()) return NormalizeServer(saved->server);
  return std::string(kDefaultServer);
}

absl::StatusOr<ApiClient*> CtlContext::Api() {
  if (api_) return &*api_;
  HERA_ASSIGN_OR_RETURN(std::string server, Server());
  std::string token;
  if (Given(token_opt) && !token_flag.empty()) {
    token = token_flag;
  } else {
    HERA_ASSIGN_OR_RETURN(std::optional<Credentials> saved, Saved());
    if (saved && NormalizeServer(saved->server) == server) token = saved->token;
  }
  api_.emplace(&http_, server, token);
  return &*api_;
}

void RunCommand(const std::function<absl::Status()>& command) {
  absl::Status status;
  try {
    status = command();
  } catch (const CLI::Error&) {
    throw;  // an exit code chosen by the command itself
  } catch (const nlohmann::json::exception& e) {
    status = absl::InternalError(absl::StrCat("unexpected response from the server: ", e.what()));
  } catch (const std::exception& e) {
    status = absl::InternalError(e.what());
  }
  if (status.ok()) {
    std::fflush(stdout);
    return;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", std::string(AsStd(status.message())).c_str());
  throw CLI::RuntimeError(ExitCodeFor(status));
}

void Print(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

void PrintJson(const Json& j) {
  Print(j.dump(2, ' ', false, Json::error_handler_t::replace));
  Print("\n");
}

bool StdoutColor() { return UseColor(STDOUT_FILENO); }

void AddCtlCommand(CLI::App& app) {
  auto ctx = std::make_shared<CtlContext>();
  CLI::App* ctl = app.add_subcommand("ctl", "Command-line client of Hera's HTTP API");
  ctl->require_subcommand(1);
  // Global flags may also follow a subcommand: `hera ctl runs --json`. Inherited by children.
  ctl->fallthrough();
  ctx->server_opt = ctl->add_option("--server", ctx->server_flag,
                                    "Hera server URL (default: the one saved at login, else " +
                                        std::string(kDefaultServer) + ")")
                        ->envname("HERA_SERVER");
  ctx->token_opt = ctl->add_option("--token", ctx->token_flag,
                                   "API token (default: the saved "
                                   "session's)")
                       ->envname("HERA_TOKEN");
  ctl->add_flag("--json", ctx->json, "Print the server's JSON response instead of text");
  ctx->config_dir_opt =
      ctl->add_option("--config-dir", ctx->config_dir_flag,
                      "Where the session is saved (default: $XDG_CONFIG_HOME/hera or "
                      "~/.config/hera)")
          ->envname("HERA_CONFIG_DIR");

  auto login_flags = std::make_shared<LoginFlags>();
  CLI::App* login = ctl->add_subcommand("login", "Log in and save the session");
  login->add_option("-u,--user", login_flags->username, "User name")->capture_default_str();
  login_flags->password_opt =
      login
          ->add_option("-p,--password", login_flags->password,
                       "Password (default: $HERA_PASSWORD, else prompted on the terminal)")
          ->envname("HERA_PASSWORD");
  login->callback([ctx, login_flags] { RunCommand([&] { return Login(*ctx, *login_flags); }); });

  CLI::App* logout = ctl->add_subcommand("logout", "Forget the saved session");
  logout->callback([ctx] { RunCommand([&] { return Logout(*ctx); }); });

  AddGroupCommands(ctl, ctx);
  AddJobCommands(ctl, ctx);
  AddRunCommands(ctl, ctx);
  AddRerunCommands(ctl, ctx);
  AddBackfillCommands(ctl, ctx);
  AddWorkerCommands(ctl, ctx);
  AddResourceCommands(ctl, ctx);
  AddExamples(ctl);
}

}  // namespace hera::cli
