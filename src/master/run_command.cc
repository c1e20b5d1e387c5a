#include "master/run_command.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hera::master {
namespace {

constexpr char kRunAsKey[] = "hera.run_as";

absl::Status Failed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("could not build the command: ", why));
}

}  // namespace

absl::Status ValidateUserName(std::string_view user) {
  auto lower_or_underscore = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  bool ok = !user.empty() && user.size() <= 32 && lower_or_underscore(user[0]);
  for (char c : user) {
    ok = ok && (lower_or_underscore(c) || (c >= '0' && c <= '9') || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "'", std::string(user), "' is not a Linux user name ([a-z_][a-z0-9_-]*, at most 32)"));
}

absl::StatusOr<RunCommand> BuildRunCommand(const CommandPolicy& policy, core::JobType type,
                                           std::string_view host_group,
                                           const core::Configs& configs,
                                           const std::vector<std::string>& env_names) {
  RunCommand command;
  command.script_name = CommandTable::ScriptName(type);
  const render::CommandTemplate& tmpl = policy.templates.Pick(type, host_group);
  absl::StatusOr<std::vector<std::string>> argv = tmpl.Expand(configs, command.script_name);
  if (!argv.ok()) {
    return Failed(absl::StrCat(
        core::Name(type), " template '", tmpl.text(), "'",
        host_group.empty() ? "" : absl::StrCat(" (host group ", std::string(host_group), ")"), ": ",
        argv.status().message()));
  }
  auto run_as = configs.find(kRunAsKey);
  if (run_as == configs.end() || run_as->second.empty()) {
    command.argv = *std::move(argv);
    return command;
  }
  const std::string& user = run_as->second;
  if (!policy.allow_run_as) {
    return Failed(absl::StrCat(kRunAsKey, " asks to run as '", user,
                               "', but run-as is disabled on this master (start it with "
                               "--allow-run-as to let jobs run as other users)"));
  }
  if (absl::Status st = ValidateUserName(user); !st.ok()) {
    return Failed(absl::StrCat(kRunAsKey, ": ", st.message()));
  }
  // -n: fail at once rather than wait for a password nobody will type. sudo resets the
  // environment, so the run's own variables (HERA_RUN_ID, secrets, ...) are kept by name.
  command.argv = {"sudo", "-n", "-u", user};
  if (!env_names.empty()) {
    command.argv.push_back(absl::StrCat("--preserve-env=", absl::StrJoin(env_names, ",")));
  }
  command.argv.push_back("--");
  for (std::string& word : *argv) command.argv.push_back(std::move(word));
  return command;
}

}  // namespace hera::master
