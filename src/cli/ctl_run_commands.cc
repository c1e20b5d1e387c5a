// `hera ctl run|runs|status|log|cancel`: starting runs, watching them and reading their logs.

#include <cstdio>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_http_client.h"
#include "cli/ctl_log_follow.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"
#include "common/strings.h"

namespace hera::cli {
namespace {

// Log bytes go out unchanged and at once, so `log -f | grep` sees lines as they come.
void WriteLog(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
}

FollowOptions DefaultFollowOptions() {
  FollowOptions options;
  options.on_reconnect = [](const absl::Status& why, int64_t offset) {
    std::fprintf(stderr, "hera ctl: log stream interrupted (%s); resuming at byte %lld\n",
                 std::string(AsStd(why.message())).c_str(),
                 static_cast<long long>(offset));  // NOLINT(google-runtime-int)
  };
  return options;
}

std::string RunSummary(const Json& run) {
  std::string text = absl::StrCat("run ", FieldText(run, "id"), " ", FieldText(run, "status"));
  if (const std::string exit = RunExitText(run); exit != "-") {
    absl::StrAppend(&text, exit.starts_with("signal") ? " (" : " (exit code ", exit, ")");
  }
  if (const std::string msg = FieldText(run, "message"); msg != "-" && !msg.empty()) {
    absl::StrAppend(&text, ": ", msg);
  }
  return text;
}

struct RunFlags {
  int64_t job_id = 0;
  bool wait = false;
};

absl::Status StartRun(CtlContext& ctx, const RunFlags& flags) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Post(absl::StrCat("/jobs/", flags.job_id, "/run"),
                                             Json{{"trigger", "manual"}}));
  const std::string queued = absl::StrCat("run ", FieldText(resp, "run_id"), " queued (action ",
                                          FieldText(resp, "action_id"), ")\n");
  if (!flags.wait) {
    if (ctx.json) {
      PrintJson(resp);
    } else {
      Print(queued);
    }
    return absl::OkStatus();
  }
  // With --wait stdout carries the log (or, with --json, the final run), so notes go to stderr.
  if (!resp.contains("run_id") || !resp["run_id"].is_number_integer()) {
    return absl::InternalError("the run response has no run_id");
  }
  const int64_t run_id = resp["run_id"].get<int64_t>();
  if (!ctx.json) std::fputs(queued.c_str(), stderr);
  LogSink sink = ctx.json ? LogSink([](std::string_view) {}) : LogSink(&WriteLog);
  HERA_ASSIGN_OR_RETURN(Json run, FollowLog(*api, run_id, 0, sink, DefaultFollowOptions()));
  if (ctx.json) PrintJson(run);
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", RunSummary(run).c_str());
  if (FieldText(run, "status") != "success") throw CLI::RuntimeError(kExitError);
  return absl::OkStatus();
}

struct RunsFlags {
  int64_t job_id = 0;
  CLI::Option* job_opt = nullptr;
  std::string status;
  CLI::Option* status_opt = nullptr;
  std::string since;
  CLI::Option* since_opt = nullptr;
  int64_t limit = 0;
  CLI::Option* limit_opt = nullptr;
};

absl::Status ListRuns(CtlContext& ctx, const RunsFlags& flags) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  std::vector<std::string> query;
  if (Given(flags.job_opt)) query.push_back(absl::StrCat("job_id=", flags.job_id));
  if (Given(flags.status_opt)) query.push_back("status=" + HttpClient::Escape(flags.status));
  if (Given(flags.since_opt)) query.push_back("since=" + HttpClient::Escape(flags.since));
  if (Given(flags.limit_opt)) query.push_back(absl::StrCat("limit=", flags.limit));
  std::string path = "/runs";
  if (!query.empty()) absl::StrAppend(&path, "?", absl::StrJoin(query, "&"));
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(path));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  const Json items = resp.is_object() && resp.contains("items") ? resp["items"] : Json::array();
  TablePrinter table({"ID", "JOB", "TRIGGER", "STATUS", "EXIT", "WORKER", "QUEUED", "DURATION"});
  for (size_t c : {0, 1, 4, 7}) table.SetAlign(c, TablePrinter::Align::kRight);
  const absl::Time now = absl::Now();
  for (const Json& run : items) {
    const std::string status = FieldText(run, "status");
    table.AddRow({FieldText(run, "id"), FieldText(run, "job_id"), FieldText(run, "trigger"),
                  Cell(status, StatusColor(status)), RunExitText(run), FieldText(run, "worker"),
                  LocalTimeText(run, "queued_at"), RunDurationText(run, now)});
  }
  Print(table.Render(StdoutColor()));
  PrintMoreNote(resp, items.size(), "runs");
  return absl::OkStatus();
}

absl::Status ShowRun(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json run, api->Get(absl::StrCat("/runs/", id)));
  if (ctx.json) {
    PrintJson(run);
    return absl::OkStatus();
  }
  Print(RenderFields({
      {"id", FieldText(run, "id")},
      {"job", FieldText(run, "job_id")},
      {"action", FieldText(run, "action_id")},
      {"trigger", FieldText(run, "trigger")},
      {"status", FieldText(run, "status")},
      {"exit code", FieldText(run, "exit_code")},
      {"signal", FieldText(run, "signal")},
      {"attempt", FieldText(run, "attempt")},
      {"job version", FieldText(run, "job_version")},
      {"worker", FieldText(run, "worker")},
      {"created by", FieldText(run, "created_by")},
      {"queued", LocalTimeText(run, "queued_at")},
      {"started", LocalTimeText(run, "started_at")},
      {"ended", LocalTimeText(run, "ended_at")},
      {"duration", RunDurationText(run, absl::Now())},
      {"message", FieldText(run, "message")},
  }));
  return absl::OkStatus();
}

struct LogFlags {
  int64_t run_id = 0;
  int64_t offset = 0;
  bool follow = false;
};

absl::Status ShowLog(CtlContext& ctx, const LogFlags& flags) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  if (flags.follow) {
    HERA_ASSIGN_OR_RETURN(Json run, FollowLog(*api, flags.run_id, flags.offset, &WriteLog,
                                              DefaultFollowOptions()));
    // As `run --wait`: the exit code says whether the run succeeded.
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", RunSummary(run).c_str());
    if (FieldText(run, "status") != "success") throw CLI::RuntimeError(kExitError);
    return absl::OkStatus();
  }
  // The server may answer a large log in parts; read until it has nothing more.
  int64_t offset = flags.offset;
  for (;;) {
    HERA_ASSIGN_OR_RETURN(HttpResponse resp, api->GetRaw(absl::StrCat("/runs/", flags.run_id,
                                                                      "/log?offset=", offset)));
    if (resp.body.empty()) break;
    WriteLog(resp.body);
    int64_t next = 0;
    if (!absl::SimpleAtoi(resp.Header("X-Next-Offset"), &next)) {
      next = offset + static_cast<int64_t>(resp.body.size());
    }
    if (next <= offset) break;
    offset = next;
  }
  return absl::OkStatus();
}

absl::Status CancelRun(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json run, api->Post(absl::StrCat("/runs/", id, "/cancel"), Json::object()));
  if (ctx.json) {
    PrintJson(run);
  } else {
    Print(absl::StrCat("run ", id, ": cancel requested (status ", FieldText(run, "status"), ")\n"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddRunCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx) {
  auto run_flags = std::make_shared<RunFlags>();
  CLI::App* run = ctl->add_subcommand("run", "Run a job now");
  run->add_option("JOB_ID", run_flags->job_id, "Job id")->required()->check(CLI::PositiveNumber);
  run->add_flag("--wait", run_flags->wait,
                "Follow the log until the run ends; exit 0 only if it succeeded");
  run->callback([ctx, run_flags] { RunCommand([&] { return StartRun(*ctx, *run_flags); }); });

  auto runs_flags = std::make_shared<RunsFlags>();
  CLI::App* runs = ctl->add_subcommand("runs", "List runs, newest first");
  runs_flags->job_opt =
      runs->add_option("--job", runs_flags->job_id, "Only this job")->check(CLI::PositiveNumber);
  runs_flags->status_opt =
      runs->add_option("--status", runs_flags->status, "Only this status")
          ->check(CLI::IsMember({"queued", "running", "success", "failed", "cancelled", "lost"}));
  runs_flags->since_opt =
      runs->add_option("--since", runs_flags->since, "Only runs queued since (ISO-8601)");
  runs_flags->limit_opt =
      runs->add_option("--limit", runs_flags->limit, "At most N runs")->check(CLI::PositiveNumber);
  runs->callback([ctx, runs_flags] { RunCommand([&] { return ListRuns(*ctx, *runs_flags); }); });

  auto id = std::make_shared<int64_t>(0);
  CLI::App* status = ctl->add_subcommand("status", "Show one run");
  status->add_option("RUN_ID", *id, "Run id")->required()->check(CLI::PositiveNumber);
  status->callback([ctx, id] { RunCommand([&] { return ShowRun(*ctx, *id); }); });

  auto log_flags = std::make_shared<LogFlags>();
  CLI::App* log = ctl->add_subcommand("log", "Print a run's log");
  log->add_option("RUN_ID", log_flags->run_id, "Run id")->required()->check(CLI::PositiveNumber);
  log->add_option("--offset", log_flags->offset, "Start at this byte")
      ->check(CLI::NonNegativeNumber);
  log->add_flag("-f,--follow", log_flags->follow,
                "Stream the log until the run ends; exit 0 only if it succeeded");
  log->callback([ctx, log_flags] { RunCommand([&] { return ShowLog(*ctx, *log_flags); }); });

  CLI::App* cancel = ctl->add_subcommand("cancel", "Cancel a queued or running run");
  cancel->add_option("RUN_ID", *id, "Run id")->required()->check(CLI::PositiveNumber);
  cancel->callback([ctx, id] { RunCommand([&] { return CancelRun(*ctx, *id); }); });
}

}  // namespace hera::cli
