#include "exec/run_spec.h"

#include "absl/strings/str_cat.h"

namespace hera::exec {

absl::Status ValidateRunSpec(const RunSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return absl::InvalidArgumentError("argv: empty command");
  }
  if (spec.work_dir.empty()) return absl::InvalidArgumentError("work_dir: empty");
  if (spec.script_name.find('/') != std::string::npos || spec.script_name == "." ||
      spec.script_name == ".." || spec.script_name == kOutputLogName) {
    return absl::InvalidArgumentError(
        absl::StrCat("script_name: \"", spec.script_name, "\" is not a plain file name"));
  }
  if (spec.script_name.empty() && !spec.script.empty()) {
    return absl::InvalidArgumentError("script: given without script_name");
  }
  for (const auto& [key, value] : spec.env) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("env: bad key \"", key, "\""));
    }
  }
  if (spec.timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout: negative");
  }
  return absl::OkStatus();
}

}  // namespace hera::exec
