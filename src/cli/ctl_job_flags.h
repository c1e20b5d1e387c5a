#pragma once
// Flags of `hera ctl job create|update` turned into the JSON body of POST/PATCH /api/v1/jobs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/ctl_api.h"

namespace hera::cli {

// What the user gave; an empty optional means "flag not given".
struct JobFlags {
  std::optional<std::string> file;  // --file: a whole JSON definition
  std::optional<std::string> name;
  std::optional<int64_t> group_id;
  std::optional<std::string> type;  // default "shell" on create
  std::optional<std::string> script;
  std::optional<std::string> script_file;  // "-" reads stdin
  std::optional<std::string> description;
  std::optional<int64_t> timeout_s;
  std::optional<int64_t> retry_count;
  std::optional<int64_t> retry_interval_s;
  std::optional<std::string> host_group;
  std::optional<std::string> cron;
  std::optional<std::string> timezone;
  std::optional<std::string> priority;
  std::optional<std::string> missed_policy;
  std::optional<std::string> owner;
  std::optional<bool> allow_concurrent;
  std::optional<bool> enabled;
  std::vector<std::string> configs;  // --config KEY=VALUE, in order
  std::vector<std::string> unset_configs;  // --unset-config KEY (update)
  // --depends-on JOB[:PERIOD], in order; replaces the job's upstreams. --no-depends-on: none.
  std::vector<std::string> depends_on;
  bool no_depends_on = false;
  std::optional<bool> self_dependency;
};

// "7" or "7:all_of_day" as {"job_id":7,"period":"all_of_day"} (period default nearest).
// InvalidArgument naming the flag's value and the periods there are.
absl::StatusOr<Json> ParseDependsOnFlag(std::string_view flag);

enum class JobBodyKind { kCreate, kUpdate };

// Splits "KEY=VALUE" at the first '='. InvalidArgument when there is no '=' or KEY is empty.
absl::StatusOr<std::pair<std::string, std::string>> ParseConfigFlag(std::string_view flag);

// The configs object from --config flags; InvalidArgument for a bad flag or a key given twice.
absl::StatusOr<Json> ParseConfigFlags(const std::vector<std::string>& flags);

// The request body: the --file object (minus read-only fields such as id and version, so the
// output of `job show --json` can be fed back) with each given flag overriding its field.
// --config keys are added to the file's configs, or for an update to `current_configs` (the
// job's configs now: the API replaces the whole object). Create requires name, group_id and
// script and defaults type to "shell"; an update must change at least one field. Reads
// --script-file and --file. InvalidArgument for bad input, NotFound for a missing file.
absl::StatusOr<Json> BuildJobBody(const JobFlags& flags, JobBodyKind kind,
                                  const Json& current_configs = Json());

}  // namespace hera::cli
