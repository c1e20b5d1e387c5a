// `hera ctl backfill start|list|show|stop|resume|rerun-failed`: a date range run again through
// the DAG (补数据).

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/ctl_api.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"

namespace hera::cli {
namespace {

std::string Counts(const Json& c) {
  return absl::StrCat(FieldText(c, "done"), " done, ", FieldText(c, "failed"), " failed, ",
                      FieldText(c, "running"), " running, ", FieldText(c, "waiting"),
                      " waiting, ", FieldText(c, "skipped"), " skipped, of ",
                      FieldText(c, "total"));
}

// The backfill's line, then its progress per date.
absl::Status PrintBackfill(CtlContext& ctx, const Json& b) {
  if (ctx.json) {
    PrintJson(b);
    return absl::OkStatus();
  }
  const std::string id = b.contains("id") && !b["id"].is_null() ? FieldText(b, "id") : "(dry run)";
  Print(absl::StrCat("backfill ", id, ": ", FieldText(b, "status"), " (", Counts(b), ")\n"));
  TablePrinter table({"DATE", "DONE", "FAILED", "RUNNING", "WAITING", "SKIPPED", "TOTAL"});
  for (size_t col = 1; col < 7; ++col) table.SetAlign(col, TablePrinter::Align::kRight);
  for (const Json& d : b.value("by_date", Json::array())) {
    table.AddRow({FieldText(d, "date"), FieldText(d, "done"), FieldText(d, "failed"),
                  FieldText(d, "running"), FieldText(d, "waiting"), FieldText(d, "skipped"),
                  FieldText(d, "total")});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

struct StartFlags {
  std::vector<int64_t> jobs;
  std::string from, to, order = "oldest_first";
  int parallelism = 1;
  bool downstream = false, skip_succeeded = false, dry_run = false;
};

absl::Status Start(CtlContext& ctx, const StartFlags& f) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  const Json body = {{"job_ids", f.jobs},           {"from", f.from},
                     {"to", f.to},                  {"downstream", f.downstream},
                     {"parallelism", f.parallelism}, {"order", f.order},
                     {"skip_succeeded", f.skip_succeeded}, {"dry_run", f.dry_run}};
  HERA_ASSIGN_OR_RETURN(Json b, api->Post("/backfills", body));
  HERA_RETURN_IF_ERROR(PrintBackfill(ctx, b));
  if (f.dry_run && !ctx.json) {
    // What it would run, in the order of the plan.
    TablePrinter table({"SCHEDULED", "JOB", "ACTION", "STATE"});
    for (const Json& n : b.value("nodes", Json::array())) {
      table.AddRow({LocalTimeText(n, "scheduled_time"), FieldText(n, "job_id"),
                    FieldText(n, "action_id"), FieldText(n, "state")});
    }
    Print(table.Render(StdoutColor()));
  }
  return absl::OkStatus();
}

absl::Status List(CtlContext& ctx) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get("/backfills"));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"ID", "JOBS", "FROM", "TO", "STATUS", "DONE", "FAILED", "TOTAL", "BY"});
  for (size_t col : {0, 5, 6, 7}) table.SetAlign(col, TablePrinter::Align::kRight);
  for (const Json& b : resp.value("items", Json::array())) {
    std::vector<std::string> jobs;
    for (const Json& j : b.value("job_ids", Json::array())) jobs.push_back(j.dump());
    const std::string status = FieldText(b, "status");
    table.AddRow({FieldText(b, "id"),
                  absl::StrCat(absl::StrJoin(jobs, ","),
                               b.value("downstream", false) ? " + downstream" : ""),
                  LocalTimeText(b, "from"), LocalTimeText(b, "to"),
                  Cell(status, StatusColor(status)), FieldText(b, "done"), FieldText(b, "failed"),
                  FieldText(b, "total"), FieldText(b, "created_by")});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

absl::Status Act(CtlContext& ctx, int64_t id, const std::string& verb) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json b, verb.empty()
                                    ? api->Get(absl::StrCat("/backfills/", id))
                                    : api->Post(absl::StrCat("/backfills/", id, "/", verb),
                                                Json::object()));
  return PrintBackfill(ctx, b);
}

}  // namespace

void AddBackfillCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx) {
  CLI::App* backfill =
      ctl->add_subcommand("backfill", "Run a date range again through the DAG (补数据)");
  backfill->require_subcommand(1);

  auto f = std::make_shared<StartFlags>();
  CLI::App* start = backfill->add_subcommand(
      "start", "Rerun jobs' times in [from, to] (and, with --downstream, all below them)");
  start->add_option("--job", f->jobs, "Job id (repeatable)")->required();
  start->add_option("--from", f->from, "First time (ISO-8601)")->required();
  start->add_option("--to", f->to, "Last time (ISO-8601)")->required();
  start->add_flag("--downstream", f->downstream, "Every job downstream too, after its upstreams");
  start->add_option("-p,--parallelism", f->parallelism, "Runs at once (1-32)")
      ->check(CLI::Range(1, 32));
  start->add_option("--order", f->order, "oldest_first or newest_first")
      ->check(CLI::IsMember({"oldest_first", "newest_first"}));
  start->add_flag("--skip-succeeded", f->skip_succeeded,
                  "Leave actions that succeeded as they are");
  start->add_flag("--dry-run", f->dry_run, "List what it would run; run nothing");
  start->footer(
      "Example: hera ctl backfill start --job 7 --from 2026-11-01T00:00:00+08:00 "
      "--to 2026-11-07T23:59:59+08:00 --downstream -p 4 --dry-run");
  start->callback([ctx, f] { RunCommand([&] { return Start(*ctx, *f); }); });

  CLI::App* list = backfill->add_subcommand("list", "Backfills, newest first");
  list->footer("Example: hera ctl backfill list");
  list->callback([ctx] { RunCommand([&] { return List(*ctx); }); });

  auto id = std::make_shared<int64_t>(0);
  const std::vector<std::pair<std::string, std::string>> verbs = {
      {"show", "Progress per date"},
      {"stop", "Start nothing more; cancel what is queued"},
      {"resume", "Run a stopped backfill on"},
      {"rerun-failed", "Run its failed actions again, then what waits for them"}};
  for (const auto& [verb, help] : verbs) {
    CLI::App* cmd = backfill->add_subcommand(verb, help);
    cmd->add_option("ID", *id, "Backfill id")->required()->check(CLI::PositiveNumber);
    cmd->footer(absl::StrCat("Example: hera ctl backfill ", verb, " 3"));
    const std::string path = verb == "show" ? "" : verb;
    cmd->callback([ctx, id, path] { RunCommand([&] { return Act(*ctx, *id, path); }); });
  }
}

}  // namespace hera::cli
