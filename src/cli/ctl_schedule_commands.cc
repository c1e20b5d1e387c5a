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

absl::Status SetEnabled(CtlContext& ctx, int64_t id, bool enabled, bool chain) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json job, api->Post(absl::StrCat("/jobs/", id, enabled ? "/enable" : "/disable"),
                                            Json{{"chain", chain}}));
  if (ctx.json) {
    PrintJson(job);
    return absl::OkStatus();
  }
  std::string changed;
  for (const Json& j : job.value("changed", Json::array())) {
    absl::StrAppend(&changed, changed.empty() ? "" : ", ", j.dump());
  }
  Print(absl::StrCat(enabled ? "enabled" : "disabled", " job",
                     job.value("changed", Json::array()).size() > 1 ? "s " : " ",
                     changed.empty() ? absl::StrCat(id, " (no change)") : changed, "\n"));
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

absl::Status Recover(CtlContext& ctx, int64_t job, int64_t action, bool super) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  const char* trigger = super ? "super_recovery" : "recovery";
  HERA_ASSIGN_OR_RETURN(Json t, api->Post(absl::StrCat("/jobs/", job, "/run"),
                                          Json{{"trigger", trigger}, {"action_id", action}}));
  if (ctx.json) {
    PrintJson(t);
  } else {
    Print(absl::StrCat("run ", FieldText(t, "run_id"), " queued (", trigger, " of action ",
                       action, ")\n"));
  }
  return absl::OkStatus();
}

absl::Status Force(CtlContext& ctx, int64_t action, const std::string& status,
                   const std::string& reason) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json a, api->Post(absl::StrCat("/actions/", action, "/force"),
                                          Json{{"status", status}, {"reason", reason}}));
  if (ctx.json) {
    PrintJson(a);
  } else {
    Print(absl::StrCat("action ", action, " is now ", FieldText(a, "status"), "\n"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddScheduleCommands(CLI::App* job, const std::shared_ptr<CtlContext>& ctx) {
  for (const bool enable : {true, false}) {
    auto id = std::make_shared<int64_t>(0);
    auto chain = std::make_shared<bool>(false);
    CLI::App* cmd = job->add_subcommand(enable ? "enable" : "disable",
                                        enable ? "Let a job run on its schedule"
                                               : "Stop a job from running on its schedule");
    cmd->add_option("ID", *id, "Job id")->required()->check(CLI::PositiveNumber);
    cmd->add_flag("--chain", *chain,
                  enable ? "Also enable every disabled job it depends on, transitively"
                         : "Also disable every enabled job that depends on it, transitively");
    cmd->callback([ctx, id, chain, enable] {
      RunCommand([&] { return SetEnabled(*ctx, *id, enable, *chain); });
    });
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
  struct RecoverFlags {
    int64_t job = 0, action = 0;
    bool super = false;
  };
  auto rf = std::make_shared<RecoverFlags>();
  CLI::App* recover = job->add_subcommand(
      "recover", "Run one of a job's actions again; its success lets downstream jobs run");
  recover->add_option("ID", rf->job, "Job id")->required()->check(CLI::PositiveNumber);
  recover->add_option("ACTION", rf->action, "Action id")->required()->check(CLI::PositiveNumber);
  recover->add_flag("--super", rf->super,
                    "Super recovery: also run every downstream action again, each once");
  recover->callback(
      [ctx, rf] { RunCommand([&] { return Recover(*ctx, rf->job, rf->action, rf->super); }); });
  struct ForceFlags {
    int64_t action = 0;
    std::string status, reason;
  };
  auto ff = std::make_shared<ForceFlags>();
  CLI::App* force = job->add_subcommand(
      "force", "Force an action's status (admin); a forced success lets downstream jobs run");
  force->add_option("ACTION", ff->action, "Action id")->required()->check(CLI::PositiveNumber);
  force->add_option("--status", ff->status, "success or failed")
      ->required()
      ->check(CLI::IsMember({"success", "failed"}));
  force->add_option("--reason", ff->reason, "Why (recorded on the action)")->required();
  force->callback(
      [ctx, ff] { RunCommand([&] { return Force(*ctx, ff->action, ff->status, ff->reason); }); });
}

}  // namespace hera::cli
