#include "cli/ctl_job_flags.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace hera::cli {
namespace {

// Fields the server sets; a definition copied from `job show --json` carries them.
constexpr const char* kReadOnlyFields[] = {"id", "version", "created_at", "updated_at",
                                          "effective_timezone"};

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view flag) {
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (path != "-") {
    owned.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid()) {
      const int err = errno;
      const std::string msg = absl::StrCat(AsAbsl(flag), " ", path, ": ", std::strerror(err));
      return err == ENOENT ? absl::NotFoundError(msg) : absl::InvalidArgumentError(msg);
    }
    fd = owned.get();
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(AsAbsl(flag), " ", path, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> ParseConfigFlag(std::string_view flag) {
  const size_t eq = flag.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config '", AsAbsl(flag), "': expected KEY=VALUE"));
  }
  if (eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config '", AsAbsl(flag), "': the key must not be empty"));
  }
  return std::make_pair(std::string(flag.substr(0, eq)), std::string(flag.substr(eq + 1)));
}

absl::StatusOr<Json> ParseConfigFlags(const std::vector<std::string>& flags) {
  Json configs = Json::object();
  for (const std::string& flag : flags) {
    HERA_ASSIGN_OR_RETURN(auto kv, ParseConfigFlag(flag));
    if (configs.contains(kv.first)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config key '", kv.first, "' is given more than once"));
    }
    configs[kv.first] = kv.second;
  }
  return configs;
}

absl::StatusOr<Json> ParseDependsOnFlag(std::string_view flag) {
  const size_t colon = flag.find(':');
  const std::string id_text(flag.substr(0, colon));
  const std::string period = colon == std::string_view::npos ? "nearest"
                                                              : std::string(flag.substr(colon + 1));
  int64_t id = 0;
  if (!absl::SimpleAtoi(id_text, &id) || id <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--depends-on '", AsAbsl(flag), "': expected JOB_ID[:PERIOD], e.g. 7 or 7:all_of_day"));
  }
  static constexpr const char* kPeriods[] = {"nearest", "all_of_day", "latest_before",
                                             "previous_day"};
  if (std::find(std::begin(kPeriods), std::end(kPeriods), period) == std::end(kPeriods)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--depends-on '", AsAbsl(flag), "': unknown period '", period,
        "' (nearest, all_of_day, latest_before, previous_day)"));
  }
  return Json{{"job_id", id}, {"period", period}};
}

absl::StatusOr<Json> BuildJobBody(const JobFlags& flags, JobBodyKind kind,
                                  const Json& current_configs) {
  Json body = Json::object();
  if (flags.file) {
    HERA_ASSIGN_OR_RETURN(std::string text, ReadFile(*flags.file, "--file"));
    body = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat("--file ", *flags.file, ": not valid JSON"));
    }
    if (!body.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--file ", *flags.file, ": expected a JSON object with the job's fields"));
    }
    for (const char* field : kReadOnlyFields) body.erase(field);
  }

  if (flags.name) body["name"] = *flags.name;
  if (flags.group_id) body["group_id"] = *flags.group_id;
  if (flags.type) body["type"] = *flags.type;
  if (flags.script) body["script"] = *flags.script;
  if (flags.script_file) {
    HERA_ASSIGN_OR_RETURN(body["script"], ReadFile(*flags.script_file, "--script-file"));
  }
  if (flags.description) body["description"] = *flags.description;
  if (flags.timeout_s) body["timeout_s"] = *flags.timeout_s;
  if (flags.host_group) body["host_group"] = *flags.host_group;
  if (flags.priority) body["priority"] = *flags.priority;
  if (flags.missed_policy) body["missed_policy"] = *flags.missed_policy;
  if (flags.owner) body["owner"] = *flags.owner;
  if (flags.allow_concurrent) body["allow_concurrent"] = *flags.allow_concurrent;
  if (flags.enabled) body["enabled"] = *flags.enabled;
  // Nested objects: set only the given members; the server applies them field by field.
  auto object_at = [&body](const char* key) -> Json& {
    if (!body.contains(key) || !body[key].is_object()) body[key] = Json::object();
    return body[key];
  };
  if (flags.retry_count) object_at("retry")["count"] = *flags.retry_count;
  if (flags.retry_interval_s) object_at("retry")["interval_s"] = *flags.retry_interval_s;
  if (flags.cron) object_at("schedule")["cron"] = *flags.cron;
  if (flags.timezone) object_at("schedule")["timezone"] = *flags.timezone;
  if (flags.self_dependency) object_at("schedule")["self_dependency"] = *flags.self_dependency;
  if (flags.no_depends_on && !flags.depends_on.empty()) {
    return absl::InvalidArgumentError("--no-depends-on and --depends-on contradict each other");
  }
  if (flags.no_depends_on) object_at("schedule")["depends_on"] = Json::array();
  if (!flags.depends_on.empty()) {
    Json deps = Json::array();
    for (const std::string& d : flags.depends_on) {
      HERA_ASSIGN_OR_RETURN(Json dep, ParseDependsOnFlag(d));
      deps.push_back(std::move(dep));
    }
    object_at("schedule")["depends_on"] = std::move(deps);
  }

  if (!flags.configs.empty() || !flags.unset_configs.empty()) {
    HERA_ASSIGN_OR_RETURN(Json given, ParseConfigFlags(flags.configs));
    const bool file_has_configs = body.contains("configs");
    Json configs = file_has_configs ? body["configs"] : Json::object();
    if (!file_has_configs && kind == JobBodyKind::kUpdate && current_configs.is_object()) {
      configs = current_configs;
    }
    if (!configs.is_object()) {
      return absl::InvalidArgumentError("--file: \"configs\" must be an object");
    }
    for (auto& [key, value] : given.items()) configs[key] = value;
    for (const std::string& key : flags.unset_configs) {
      if (given.contains(key)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--config and --unset-config both name '", key, "'"));
      }
      if (!configs.contains(key)) {
        return absl::NotFoundError(absl::StrCat("--unset-config: the job has no config '", key,
                                                "'"));
      }
      configs.erase(key);
    }
    body["configs"] = std::move(configs);
  }

  if (kind == JobBodyKind::kCreate) {
    if (!body.contains("type")) body["type"] = "shell";
    if (!body.contains("name")) {
      return absl::InvalidArgumentError("--name is required (or \"name\" in --file)");
    }
    if (!body.contains("group_id")) {
      return absl::InvalidArgumentError("--group is required (or \"group_id\" in --file)");
    }
    if (!body.contains("script")) {
      return absl::InvalidArgumentError(
          "--script or --script-file is required (or \"script\" in --file)");
    }
  } else if (body.empty()) {
    return absl::InvalidArgumentError(
        "nothing to update: give the fields to change as flags or with --file");
  }
  return body;
}

}  // namespace hera::cli
