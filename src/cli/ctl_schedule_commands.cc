// `hera ctl job enable|disable|actions|recover`: the scheduled side of a job.

#include <CLI/CLI.hpp>
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

absl::Status SetEnabled(CtlContext& ctx, int64_t id, bool enabled) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(
      Json job, api->Post(absl::StrCat("/jobs/", id, enabled ? "/enable" : "/disable"), Json::object()));
  if (ctx.json) {
    PrintJson(job);
  } else {
    Print(absl::StrCat("job ", id, enabled ? " enabled" : " disabled", " (version ",
                       FieldText(job, "version"), ")\n"));
  }
  return absl::OkStatus();
}

absl::Status ListActions(CtlContext& ctx, int64_t id, const std::string& from,
                         const std::string& to) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  std::string path = absl::StrCat("/jobs/", id, "/actions");
  std::string sep = "?";
  if (!from.empty()) absl::StrAppend(&path, sep, "from=", from), sep = "&";
  if (!to.empty()) absl::StrAppend(&path, sep, "to=", to);
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(path));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"ID", "SCHEDULED", "STATUS", "UPSTREAM", "REASON"});
  table.SetAlign(0, TablePrinter::Align::kRight);
  for (const Json& a : resp.value("items", Json::array())) {
    std::string upstream;
    for (const Json& u : a.value("upstream", Json::array())) {
      absl::StrAppend(&upstream, upstream.empty() ? "" : ",", u.dump());
    }
    const std::string status = FieldText(a, "status");
    table.AddRow({FieldText(a, "id"), LocalTimeText(a, "scheduled_time"),
                  Cell(status, StatusColor(status)), upstream, FieldText(a, "reason")});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

absl::Status Recover(CtlContext& ctx, int64_t job, int64_t action) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json t, api->Post(absl::StrCat("/jobs/", job, "/run"),
                                          Json{{"trigger", "recovery"}, {"action_id", action}}));
  if (ctx.json) {
    PrintJson(t);
  } else {
    Print(absl::StrCat("run ", FieldText(t, "run_id"), " queued (recovery of action ", action,
                       ")\n"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddScheduleCommands(CLI::App* job, const std::shared_ptr<CtlContext>& ctx) {
  for (const bool enable : {true, false}) {
    auto id = std::make_shared<int64_t>(0);
    CLI::App* cmd = job->add_subcommand(enable ? "enable" : "disable",
                                        enable ? "Let a job run on its schedule"
                                               : "Stop a job from running on its schedule");
    cmd->add_option("ID", *id, "Job id")->required()->check(CLI::PositiveNumber);
    cmd->callback([ctx, id, enable] { RunCommand([&] { return SetEnabled(*ctx, *id, enable); }); });
  }
  struct ActionsFlags {
    int64_t id = 0;
    std::string from, to;
  };
  auto flags = std::make_shared<ActionsFlags>();
  CLI::App* actions = job->add_subcommand("actions", "A job's scheduled actions (versions)");
  actions->add_option("ID", flags->id, "Job id")->required()->check(CLI::PositiveNumber);
  actions->add_option("--from", flags->from, "From this time (ISO-8601)");
  actions->add_option("--to", flags->to, "Before this time (ISO-8601)");
  actions->callback(
      [ctx, flags] { RunCommand([&] { return ListActions(*ctx, flags->id, flags->from, flags->to); }); });
  auto ids = std::make_shared<std::pair<int64_t, int64_t>>(0, 0);
  CLI::App* recover = job->add_subcommand(
      "recover", "Run one of a job's actions again; its success lets downstream jobs run");
  recover->add_option("ID", ids->first, "Job id")->required()->check(CLI::PositiveNumber);
  recover->add_option("ACTION", ids->second, "Action id")->required()->check(CLI::PositiveNumber);
  recover->callback([ctx, ids] { RunCommand([&] { return Recover(*ctx, ids->first, ids->second); }); });
}

}  // namespace hera::cli
