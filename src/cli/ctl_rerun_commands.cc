// `hera ctl rerun start|list|show|stop|failed`: rerun batches (重跑历史).

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

std::string Progress(const Json& b) {
  return absl::StrCat(FieldText(b, "done"), " done, ", FieldText(b, "failed"), " failed, ",
                      FieldText(b, "running"), " running, of ", FieldText(b, "total"));
}

absl::Status PrintBatch(CtlContext& ctx, const Json& b) {
  if (ctx.json) {
    PrintJson(b);
  } else {
    Print(absl::StrCat("rerun ", FieldText(b, "id"), " of job ", FieldText(b, "job_id"), ": ",
                       FieldText(b, "status"), " (", Progress(b), ")\n"));
  }
  return absl::OkStatus();
}

struct StartFlags {
  int64_t job = 0;
  std::string from, to;
  int parallelism = 1;
  bool queue = false;
};

absl::Status Start(CtlContext& ctx, const StartFlags& f) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json b, api->Post(absl::StrCat("/jobs/", f.job, "/reruns"),
                                          Json{{"from", f.from}, {"to", f.to},
                                               {"parallelism", f.parallelism},
                                               {"queue", f.queue}}));
  return PrintBatch(ctx, b);
}

absl::Status List(CtlContext& ctx, int64_t job) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(absl::StrCat("/jobs/", job, "/reruns")));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"ID", "FROM", "TO", "STATUS", "DONE", "FAILED", "TOTAL", "BY"});
  for (size_t col : {0, 4, 5, 6}) table.SetAlign(col, TablePrinter::Align::kRight);
  for (const Json& b : resp.value("items", Json::array())) {
    const std::string status = FieldText(b, "status");
    table.AddRow({FieldText(b, "id"), LocalTimeText(b, "from"), LocalTimeText(b, "to"),
                  Cell(status, StatusColor(status)), FieldText(b, "done"), FieldText(b, "failed"),
                  FieldText(b, "total"), FieldText(b, "created_by")});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

absl::Status Show(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json b, api->Get(absl::StrCat("/reruns/", id)));
  if (ctx.json) {
    PrintJson(b);
    return absl::OkStatus();
  }
  HERA_RETURN_IF_ERROR(PrintBatch(ctx, b));
  TablePrinter table({"SCHEDULED", "ACTION"});
  for (const Json& item : b.value("items", Json::array())) {
    table.AddRow({LocalTimeText(item, "scheduled_time"), FieldText(item, "action_id")});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

absl::Status Stop(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json b, api->Post(absl::StrCat("/reruns/", id, "/stop"), Json::object()));
  return PrintBatch(ctx, b);
}

absl::Status Failed(CtlContext& ctx, int64_t id, int parallelism) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  Json body = Json::object();
  if (parallelism > 0) body["parallelism"] = parallelism;
  HERA_ASSIGN_OR_RETURN(Json b, api->Post(absl::StrCat("/reruns/", id, "/rerun-failed"), body));
  return PrintBatch(ctx, b);
}

}  // namespace

void AddRerunCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx) {
  CLI::App* rerun = ctl->add_subcommand("rerun", "Rerun a job's history over a time range");
  rerun->require_subcommand(1);
  auto sf = std::make_shared<StartFlags>();
  CLI::App* start = rerun->add_subcommand("start", "Rerun a job's cron times in [from, to]");
  start->add_option("JOB", sf->job, "Job id")->required()->check(CLI::PositiveNumber);
  start->add_option("--from", sf->from, "First time (ISO-8601)")->required();
  start->add_option("--to", sf->to, "Last time (ISO-8601)")->required();
  start->add_option("-p,--parallelism", sf->parallelism, "Runs at once (1-32)")
      ->check(CLI::Range(1, 32));
  start->add_flag("--queue", sf->queue,
                  "If a running batch of the job overlaps, wait for it instead of failing");
  start->callback([ctx, sf] { RunCommand([&] { return Start(*ctx, *sf); }); });

  auto id = std::make_shared<int64_t>(0);
  CLI::App* list = rerun->add_subcommand("list", "A job's rerun batches");
  list->add_option("JOB", *id, "Job id")->required()->check(CLI::PositiveNumber);
  list->callback([ctx, id] { RunCommand([&] { return List(*ctx, *id); }); });
  CLI::App* show = rerun->add_subcommand("show", "A batch's progress and times");
  show->add_option("ID", *id, "Batch id")->required()->check(CLI::PositiveNumber);
  show->callback([ctx, id] { RunCommand([&] { return Show(*ctx, *id); }); });
  CLI::App* stop = rerun->add_subcommand("stop", "Start nothing more; cancel what is queued");
  stop->add_option("ID", *id, "Batch id")->required()->check(CLI::PositiveNumber);
  stop->callback([ctx, id] { RunCommand([&] { return Stop(*ctx, *id); }); });
  auto parallelism = std::make_shared<int>(0);
  CLI::App* failed = rerun->add_subcommand("failed", "A new batch of a batch's failed times");
  failed->add_option("ID", *id, "Batch id")->required()->check(CLI::PositiveNumber);
  failed->add_option("-p,--parallelism", *parallelism, "Runs at once (default: as before)")
      ->check(CLI::Range(1, 32));
  failed->callback([ctx, id, parallelism] {
    RunCommand([&] { return Failed(*ctx, *id, *parallelism); });
  });
}

}  // namespace hera::cli
