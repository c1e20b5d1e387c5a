// `hera ctl job configs|preview`: what a run of a job sees, without running it.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/ctl_api.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"

namespace hera::cli {
namespace {

// "job", or "group 3 (etl)" for a group's value.
std::string SourceText(const Json& item) {
  if (!item.contains("group_id")) return FieldText(item, "source");
  return absl::StrCat("group ", FieldText(item, "group_id"), " (", FieldText(item, "group_name"),
                      ")");
}

absl::Status ShowConfigs(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(absl::StrCat("/jobs/", id, "/configs/effective")));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"KEY", "VALUE", "SOURCE"});
  for (const Json& item : resp.value("items", Json::array())) {
    std::string value = CellText(FieldText(item, "value"));
    if (item.value("secret", false)) absl::StrAppend(&value, " (as $", FieldText(item, "env"), ")");
    table.AddRow({CellText(FieldText(item, "key")), value, SourceText(item)});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

struct PreviewFlags {
  int64_t job = 0;
  int64_t action = 0;
  std::string time;
};

// The rendered script on stdout, as it would run (so it can be piped or diffed); what else the
// run would get on stderr.
absl::Status Preview(CtlContext& ctx, const PreviewFlags& f) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  std::string path = f.action ? absl::StrCat("/actions/", f.action, "/preview")
                              : absl::StrCat("/jobs/", f.job, "/preview");
  if (!f.time.empty()) absl::StrAppend(&path, "?time=", HttpClient::Escape(f.time));
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(path));
  if (f.action && resp.value("job_id", int64_t{0}) != f.job) {
    return absl::InvalidArgumentError(absl::StrCat("action ", f.action, " belongs to job ",
                                                   FieldText(resp, "job_id"), ", not job ", f.job));
  }
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  const std::string script = resp.value("script", "");
  Print(script);
  if (!script.empty() && script.back() != '\n') Print("\n");
  std::string notes = absl::StrCat("# rendered for ", FieldText(resp, "scheduled_time"), " (",
                                   FieldText(resp, "timezone"), ")\n");
  for (const Json& d : resp.value("downloads", Json::array())) {
    absl::StrAppend(&notes, "# download ", FieldText(d, "uri"), " -> ", FieldText(d, "name"), "\n");
  }
  const Json env = resp.value("env", Json::object());  // items() must not outlive it
  for (const auto& [name, value] : env.items()) {
    absl::StrAppend(&notes, "# secret in $", name, "\n");
  }
  std::fputs(notes.c_str(), stderr);
  return absl::OkStatus();
}

}  // namespace

void AddRenderCommands(CLI::App* job, const std::shared_ptr<CtlContext>& ctx) {
  auto id = std::make_shared<int64_t>(0);
  CLI::App* configs = job->add_subcommand(
      "configs", "A job's effective configs: its own, then each group's up to the root");
  configs->add_option("ID", *id, "Job id")->required()->check(CLI::PositiveNumber);
  configs->callback([ctx, id] { RunCommand([&] { return ShowConfigs(*ctx, *id); }); });

  auto flags = std::make_shared<PreviewFlags>();
  CLI::App* preview = job->add_subcommand(
      "preview", "Render a job's script as a run would get it, without running it");
  preview->add_option("ID", flags->job, "Job id")->required()->check(CLI::PositiveNumber);
  CLI::Option* action =
      preview->add_option("--action", flags->action, "Render for this action's scheduled time")
          ->check(CLI::PositiveNumber);
  CLI::Option* time = preview->add_option(
      "--time", flags->time,
      "Render as if scheduled at this ISO-8601 time (without an offset: in the job's zone; "
      "default: now)");
  action->excludes(time);
  preview->callback([ctx, flags] { RunCommand([&] { return Preview(*ctx, *flags); }); });
}

}  // namespace hera::cli
