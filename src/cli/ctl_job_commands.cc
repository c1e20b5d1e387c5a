// `hera ctl job create|list|show|update|delete`.

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_group_ref.h"
#include "cli/ctl_http_client.h"
#include "cli/ctl_job_flags.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"

namespace hera::cli {
namespace {

// Raw storage CLI11 writes into; ToJobFlags() keeps only what was given.
struct JobFlagStorage {
  int64_t id = 0;
  std::string file, name, type, script, script_file, description, host_group, cron, timezone,
      priority;
  std::string group;  // id or path
  std::string missed_policy, owner;
  bool allow_concurrent = true;
  CLI::Option *missed_opt = nullptr, *owner_opt = nullptr, *concurrent_opt = nullptr;
  int64_t timeout_s = 0, retry_count = 0, retry_interval_s = 0;
  bool enabled = true, self_dependency = false, no_depends_on = false;
  bool force = false;  // save a host group no worker serves yet
  std::vector<std::string> configs, unset_configs, depends_on;
  CLI::Option* self_dependency_opt = nullptr;
  CLI::Option *file_opt, *name_opt, *type_opt, *script_opt, *script_file_opt, *description_opt,
      *host_group_opt, *cron_opt, *timezone_opt, *priority_opt, *group_opt, *timeout_opt,
      *retry_opt, *retry_interval_opt, *enabled_opt;

  JobFlags ToJobFlags() const {
    JobFlags f;
    auto str = [](CLI::Option* o, const std::string& v) {
      return Given(o) ? std::optional<std::string>(v) : std::nullopt;
    };
    auto num = [](CLI::Option* o, int64_t v) {
      return Given(o) ? std::optional<int64_t>(v) : std::nullopt;
    };
    f.file = str(file_opt, file);
    f.name = str(name_opt, name);
    f.type = str(type_opt, type);
    f.script = str(script_opt, script);
    f.script_file = str(script_file_opt, script_file);
    f.description = str(description_opt, description);
    f.host_group = str(host_group_opt, host_group);
    f.cron = str(cron_opt, cron);
    f.timezone = str(timezone_opt, timezone);
    f.priority = str(priority_opt, priority);
    // --group is resolved (it may be a path) by the command, with the server at hand.
    f.timeout_s = num(timeout_opt, timeout_s);
    f.retry_count = num(retry_opt, retry_count);
    f.retry_interval_s = num(retry_interval_opt, retry_interval_s);
    if (Given(enabled_opt)) f.enabled = enabled;
    if (Given(self_dependency_opt)) f.self_dependency = self_dependency;
    f.missed_policy = str(missed_opt, missed_policy);
    f.owner = str(owner_opt, owner);
    if (Given(concurrent_opt)) f.allow_concurrent = allow_concurrent;
    f.configs = configs;
    f.unset_configs = unset_configs;
    f.depends_on = depends_on;
    f.no_depends_on = no_depends_on;
    return f;
  }
};

// The flags shared by create and update.
void AddDefinitionFlags(CLI::App* cmd, JobFlagStorage* s) {
  s->file_opt = cmd->add_option("--file", s->file,
                                "JSON file with the job definition (- for stdin); flags "
                                "override its fields");
  s->name_opt = cmd->add_option("--name", s->name, "Job name");
  s->group_opt = cmd->add_option("--group", s->group, "Group (id or path, e.g. dw/ods)");
  s->type_opt = cmd->add_option("--type", s->type, "Job type (default on create: shell)")
                    ->check(CLI::IsMember({"shell", "python", "hive", "spark_sql", "java"}));
  s->script_opt = cmd->add_option("--script", s->script, "The script text");
  s->script_file_opt =
      cmd->add_option("--script-file", s->script_file, "Read the script from a file (- for stdin)");
  s->script_opt->excludes(s->script_file_opt);
  s->description_opt = cmd->add_option("--description", s->description, "Description");
  s->timeout_opt = cmd->add_option("--timeout", s->timeout_s, "Timeout in seconds (0: none)")
                       ->check(CLI::NonNegativeNumber);
  s->retry_opt = cmd->add_option("--retry", s->retry_count, "Retries after a failure")
                     ->check(CLI::NonNegativeNumber);
  s->retry_interval_opt =
      cmd->add_option("--retry-interval", s->retry_interval_s, "Seconds between retries")
          ->check(CLI::NonNegativeNumber);
  s->host_group_opt = cmd->add_option("--host-group", s->host_group, "Workers that may run it");
  s->cron_opt = cmd->add_option("--cron", s->cron, "Cron schedule (empty: none)");
  s->timezone_opt = cmd->add_option("--timezone", s->timezone, "Time zone of the cron schedule");
  s->priority_opt = cmd->add_option("--priority", s->priority, "low, medium or high")
                        ->check(CLI::IsMember({"low", "medium", "high"}));
  s->enabled_opt = cmd->add_option("--enabled", s->enabled, "true or false");
  s->concurrent_opt = cmd->add_option("--allow-concurrent", s->allow_concurrent,
                                      "false: a second run waits while one is running");
  s->missed_opt = cmd->add_option("--missed-policy", s->missed_policy,
                                  "Times missed while Hera was down: run_all, run_latest, skip")
                      ->check(CLI::IsMember({"run_all", "run_latest", "skip"}));
  s->owner_opt = cmd->add_option("--owner", s->owner, "Owner (a user name)");
  cmd->add_option("--config", s->configs, "Job config KEY=VALUE (repeatable)");
  cmd->add_option("--depends-on", s->depends_on,
                  "Upstream JOB_ID[:PERIOD] (repeatable; replaces the upstreams); PERIOD is "
                  "nearest (default), all_of_day, latest_before or previous_day");
  cmd->add_flag("--no-depends-on", s->no_depends_on, "No upstream jobs");
  s->self_dependency_opt = cmd->add_option("--self-dependency", s->self_dependency,
                                           "true: each action also waits for the previous one");
  cmd->add_flag("--force", s->force,
                "Save a --host-group no worker serves yet (its runs wait for one)");
}

// Prints the save's warnings (a forced host group) to stderr.
void PrintWarnings(const Json& job) {
  if (!job.contains("warnings") || !job["warnings"].is_array()) return;
  for (const Json& w : job["warnings"]) {
    if (w.is_string()) std::fprintf(stderr, "warning: %s\n", w.get<std::string>().c_str());
  }
}

// The flags with --group resolved to an id.
absl::StatusOr<JobFlags> ResolvedFlags(ApiClient& api, const JobFlagStorage& s) {
  JobFlags f = s.ToJobFlags();
  if (Given(s.group_opt)) {
    HERA_ASSIGN_OR_RETURN(int64_t id, ResolveGroup(api, s.group));
    f.group_id = id;
  }
  return f;
}

absl::Status CreateJob(CtlContext& ctx, const JobFlagStorage& s) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(JobFlags flags, ResolvedFlags(*api, s));
  HERA_ASSIGN_OR_RETURN(Json body, BuildJobBody(flags, JobBodyKind::kCreate));
  if (s.force) body["force"] = true;
  HERA_ASSIGN_OR_RETURN(Json job, api->Post("/jobs", body));
  PrintWarnings(job);
  if (ctx.json) {
    PrintJson(job);
  } else {
    Print(absl::StrCat(FieldText(job, "id"), "\n"));
  }
  return absl::OkStatus();
}

absl::Status UpdateJob(CtlContext& ctx, const JobFlagStorage& s) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(const JobFlags flags, ResolvedFlags(*api, s));
  Json current_configs;
  if (!flags.configs.empty() || !flags.unset_configs.empty()) {
    // PATCH replaces "configs" as a whole; --config adds to what the job has. There is no
    // version precondition in the API, so a concurrent edit of configs can be lost.
    HERA_ASSIGN_OR_RETURN(Json job, api->Get(absl::StrCat("/jobs/", s.id)));
    if (job.contains("configs")) current_configs = job["configs"];
  }
  HERA_ASSIGN_OR_RETURN(Json body, BuildJobBody(flags, JobBodyKind::kUpdate, current_configs));
  if (s.force) body["force"] = true;
  HERA_ASSIGN_OR_RETURN(Json job, api->Patch(absl::StrCat("/jobs/", s.id), body));
  PrintWarnings(job);
  if (ctx.json) {
    PrintJson(job);
  } else {
    Print(absl::StrCat("job ", s.id, " updated (version ", FieldText(job, "version"), ")\n"));
  }
  return absl::OkStatus();
}

struct ListFlags {
  std::string group;  // id or path
  CLI::Option* group_opt = nullptr;
  std::string query;
  CLI::Option* query_opt = nullptr;
  int64_t limit = 0;
  CLI::Option* limit_opt = nullptr;
};

// "0 2 * * *", "after 12, 15", "0 2 * * * + after 12" or "-".
std::string ScheduleText(const Json& job) {
  if (!job.contains("schedule") || !job["schedule"].is_object()) return "-";
  const Json& s = job["schedule"];
  std::string cron =
      s.contains("cron") && s["cron"].is_string() ? s["cron"].get<std::string>() : "";
  std::vector<std::string> deps;
  if (s.contains("depends_on") && s["depends_on"].is_array()) {
    for (const Json& d : s["depends_on"]) deps.push_back(FieldText(d, "job_id"));
  }
  std::string text = cron;
  if (!deps.empty()) {
    absl::StrAppend(&text, text.empty() ? "" : " + ", "after ", absl::StrJoin(deps, ", "));
  }
  return text.empty() ? "-" : text;
}

absl::Status ListJobs(CtlContext& ctx, const ListFlags& flags) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  std::vector<std::string> query;
  if (Given(flags.group_opt)) {
    HERA_ASSIGN_OR_RETURN(int64_t group, ResolveGroup(*api, flags.group));
    query.push_back(absl::StrCat("group_id=", group));
  }
  if (Given(flags.query_opt)) query.push_back("q=" + HttpClient::Escape(flags.query));
  if (Given(flags.limit_opt)) query.push_back(absl::StrCat("limit=", flags.limit));
  std::string path = "/jobs";
  if (!query.empty()) absl::StrAppend(&path, "?", absl::StrJoin(query, "&"));
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(path));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  const Json items = resp.is_object() && resp.contains("items") ? resp["items"] : Json::array();
  TablePrinter table({"ID", "GROUP", "NAME", "TYPE", "SCHEDULE", "ENABLED", "OWNER"});
  table.SetAlign(0, TablePrinter::Align::kRight);
  table.SetAlign(1, TablePrinter::Align::kRight);
  for (const Json& job : items) {
    table.AddRow({FieldText(job, "id"), FieldText(job, "group_id"), FieldText(job, "name"),
                  FieldText(job, "type"), ScheduleText(job), FieldText(job, "enabled"),
                  FieldText(job, "owner")});
  }
  Print(table.Render(StdoutColor()));
  PrintMoreNote(resp, items.size(), "jobs");
  return absl::OkStatus();
}

absl::Status ShowJob(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json job, api->Get(absl::StrCat("/jobs/", id)));
  if (ctx.json) {
    PrintJson(job);
    return absl::OkStatus();
  }
  HERA_ASSIGN_OR_RETURN(Json groups, FetchGroups(*api));
  const int64_t group_id = job.contains("group_id") && job["group_id"].is_number_integer()
                               ? job["group_id"].get<int64_t>()
                               : 0;
  const Json zone = job.contains("effective_timezone") ? job["effective_timezone"] : Json();
  const Json schedule = job.contains("schedule") ? job["schedule"] : Json::object();
  const Json retry = job.contains("retry") ? job["retry"] : Json::object();
  std::vector<std::string> deps;
  if (schedule.contains("depends_on") && schedule["depends_on"].is_array()) {
    for (const Json& d : schedule["depends_on"]) {
      deps.push_back(absl::StrCat(FieldText(d, "job_id"), " (", FieldText(d, "period"), ")"));
    }
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", FieldText(job, "id")},
      {"name", FieldText(job, "name")},
      {"group", absl::StrCat(GroupPathOf(groups, group_id), " (", group_id, ")")},
      {"type", FieldText(job, "type")},
      {"description", FieldText(job, "description")},
      {"owner", FieldText(job, "owner")},
      {"enabled", FieldText(job, "enabled")},
      {"cron", FieldText(schedule, "cron")},
      {"timezone", zone.is_object() ? absl::StrCat(FieldText(zone, "name"), ": ",
                                                   FieldText(zone, "reason"))
                                    : FieldText(schedule, "timezone")},
      {"depends on", deps.empty() ? "-" : absl::StrJoin(deps, ", ")},
      {"self dependency", FieldText(schedule, "self_dependency")},
      {"retry",
       absl::StrCat(FieldText(retry, "count"), " every ", FieldText(retry, "interval_s"), "s")},
      {"timeout", absl::StrCat(FieldText(job, "timeout_s"), "s")},
      {"host group", FieldText(job, "host_group")},
      {"priority", FieldText(job, "priority")},
      {"concurrent", FieldText(job, "allow_concurrent")},
      {"version", FieldText(job, "version")},
      {"created", LocalTimeText(job, "created_at")},
      {"updated", LocalTimeText(job, "updated_at")},
  };
  if (job.contains("configs") && job["configs"].is_object()) {
    for (const auto& [key, value] : job["configs"].items()) {
      fields.emplace_back(absl::StrCat("config ", key),
                          value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  Print(RenderFields(fields));
  // The script is printed as stored, not through CellText, so it can be copied back.
  const std::string script =
      job.contains("script") && job["script"].is_string() ? job["script"].get<std::string>() : "";
  Print("script:\n");
  Print(script);
  if (!script.empty() && script.back() != '\n') Print("\n");
  return absl::OkStatus();
}

absl::Status DeleteJob(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_RETURN_IF_ERROR(api->Delete(absl::StrCat("/jobs/", id)).status());
  if (ctx.json) {
    PrintJson(Json{{"deleted", id}});
  } else {
    Print(absl::StrCat("job ", id, " deleted\n"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddJobCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx) {
  CLI::App* job = ctl->add_subcommand("job", "Jobs: definitions of what runs and when");
  job->require_subcommand(1);

  auto create_flags = std::make_shared<JobFlagStorage>();
  CLI::App* create = job->add_subcommand("create", "Create a job; prints its id");
  AddDefinitionFlags(create, create_flags.get());
  create->footer(
      "Example: hera ctl job create --group dw/ods --name load_orders --type hive "
      "--script-file load.hql --cron '0 30 1 * * ?' --timezone Asia/Shanghai "
      "--depends-on 7 --depends-on 9:all_of_day --config queue=etl --retry 2 --enabled true");
  create->callback(
      [ctx, create_flags] { RunCommand([&] { return CreateJob(*ctx, *create_flags); }); });

  auto list_flags = std::make_shared<ListFlags>();
  CLI::App* list = job->add_subcommand("list", "List jobs");
  list_flags->group_opt =
      list->add_option("--group", list_flags->group, "Only this group (id or path)");
  list_flags->query_opt = list->add_option("-q,--query", list_flags->query, "Search text");
  list_flags->limit_opt =
      list->add_option("--limit", list_flags->limit, "At most N jobs")->check(CLI::PositiveNumber);
  list->footer("Example: hera ctl job list --group dw/ods -q orders");
  list->callback([ctx, list_flags] { RunCommand([&] { return ListJobs(*ctx, *list_flags); }); });

  auto id = std::make_shared<int64_t>(0);
  CLI::App* show = job->add_subcommand("show", "Show a job's fields and script");
  show->add_option("ID", *id, "Job id")->required()->check(CLI::PositiveNumber);
  show->footer("Example: hera ctl job show 12");
  show->callback([ctx, id] { RunCommand([&] { return ShowJob(*ctx, *id); }); });

  auto update_flags = std::make_shared<JobFlagStorage>();
  CLI::App* update = job->add_subcommand("update", "Change the given fields of a job");
  update->add_option("ID", update_flags->id, "Job id")->required()->check(CLI::PositiveNumber);
  AddDefinitionFlags(update, update_flags.get());
  update->add_option("--unset-config", update_flags->unset_configs,
                     "Remove the job's config KEY (repeatable)");
  update->footer(
      "Example: hera ctl job update 12 --cron '0 0 2 * * ?' --depends-on 7:previous_day "
      "--config queue=adhoc --unset-config tmp_dir");
  update->callback(
      [ctx, update_flags] { RunCommand([&] { return UpdateJob(*ctx, *update_flags); }); });

  CLI::App* del = job->add_subcommand("delete", "Delete a job");
  del->add_option("ID", *id, "Job id")->required()->check(CLI::PositiveNumber);
  del->footer("Example: hera ctl job delete 12 (a disabled job nothing depends on)");
  del->callback([ctx, id] { RunCommand([&] { return DeleteJob(*ctx, *id); }); });

  AddScheduleCommands(job, ctx);
  AddHistoryCommands(job, ctx);
  AddRenderCommands(job, ctx);
}

}  // namespace hera::cli
