#pragma once
// Prepares a run's work directory and environment before its process is spawned.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "exec/run_spec.h"

namespace hera::exec {

// Creates spec.work_dir (mkdir -p) and writes spec.script to work_dir/script_name (mode 0600);
// with spec.run_as, then lets that user work in it (see RunSpec::run_as; output.log is created).
// Returns the failing step with its errno, or an unknown run_as user.
absl::Status PrepareWorkDir(const RunSpec& spec);

// Opens work_dir/output.log for appending (created with mode 0600; O_CLOEXEC). The runner opens
// it at the first output, so a silent run creates no log file (a missing log is an empty one).
absl::StatusOr<UniqueFd> OpenRunLog(const std::string& work_dir);

// Returns `base` ("KEY=value" entries, e.g. a copy of environ) with `overrides` applied: an
// override replaces the entry with the same key, or is appended. Later overrides win.
std::vector<std::string> MergeEnvironment(
    const std::vector<std::string>& base,
    const std::vector<std::pair<std::string, std::string>>& overrides);

// Returns a copy of this process's environment.
std::vector<std::string> CurrentEnvironment();

}  // namespace hera::exec
