// `hera ctl worker list|drain|undrain|metrics`: the machines that run jobs.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/ctl_api.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_http_client.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"

namespace hera::cli {
namespace {

// "1.5 GiB": bytes in the largest binary unit that keeps the number >= 1.
std::string ByteSize(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrCat(bytes, " B") : absl::StrFormat("%.1f %s", value, units[unit]);
}

std::string Percent(double used, double total) {
  return total > 0 ? absl::StrFormat("%.0f%%", 100.0 * used / total) : "-";
}

// "cpu 12%  load 0.40  mem 35%", or "-" before the first heartbeat.
std::string MetricsText(const Json& w) {
  const Json& m = w.value("metrics", Json());
  if (!m.is_object()) return "-";
  return absl::StrFormat("cpu %.0f%%  load %.2f  mem %s", m.value("cpu_percent", 0.0),
                         m.value("load_per_core", 0.0),
                         Percent(m.value("memory_used_bytes", 0.0),
                                 m.value("memory_total_bytes", 0.0)));
}

std::string Joined(const Json& w, const char* field) {
  std::vector<std::string> parts;
  for (const Json& v : w.value(field, Json::array())) {
    parts.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, ",");
}

absl::Status List(CtlContext& ctx) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get("/workers"));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"ID", "HOST", "STATE", "HOST GROUPS", "SLOTS", "RUNNING", "QUEUED", "METRICS"});
  for (size_t col : {4, 5, 6}) table.SetAlign(col, TablePrinter::Align::kRight);
  for (const Json& w : resp.value("items", Json::array())) {
    const std::string state = FieldText(w, "state");
    table.AddRow({FieldText(w, "id"), FieldText(w, "host"),
                  Cell(state, state == "online" ? Color::kGreen
                                                : (state == "draining" ? Color::kYellow
                                                                       : Color::kRed)),
                  Joined(w, "host_groups"), FieldText(w, "slots"),
                  absl::StrCat(w.value("running_runs", Json::array()).size()),
                  absl::StrCat(w.value("queued_runs", Json::array()).size()), MetricsText(w)});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

absl::Status Drain(CtlContext& ctx, const std::string& id, bool drain) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(
      Json w, api->Post(absl::StrCat("/workers/", id, drain ? "/drain" : "/undrain"),
                        Json::object()));
  if (ctx.json) {
    PrintJson(w);
  } else {
    Print(absl::StrCat("worker ", FieldText(w, "id"), " is ", FieldText(w, "state"),
                       drain ? absl::StrCat(": it takes nothing new and finishes its ",
                                            w.value("running_runs", Json::array()).size(),
                                            " running runs\n")
                             : "\n"));
  }
  return absl::OkStatus();
}

absl::Status Metrics(CtlContext& ctx, const std::string& id, const std::string& since) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  std::string path = absl::StrCat("/workers/", id, "/metrics");
  if (!since.empty()) path += "?since=" + HttpClient::Escape(since);
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(path));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"AT", "CPU %", "LOAD/CORE", "MEM USED", "MEM TOTAL", "DISK FREE"});
  for (size_t col : {1, 2, 3, 4, 5}) table.SetAlign(col, TablePrinter::Align::kRight);
  for (const Json& m : resp.value("items", Json::array())) {
    table.AddRow({LocalTimeText(m, "at"), absl::StrFormat("%.1f", m.value("cpu_percent", 0.0)),
                  absl::StrFormat("%.2f", m.value("load_per_core", 0.0)),
                  ByteSize(m.value("memory_used_bytes", int64_t{0})),
                  ByteSize(m.value("memory_total_bytes", int64_t{0})),
                  ByteSize(m.value("disk_free_bytes", int64_t{0}))});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

}  // namespace

void AddWorkerCommands(CLI::App* ctl, const std::shared_ptr<CtlContext>& ctx) {
  CLI::App* worker = ctl->add_subcommand("worker", "The machines that run jobs");
  worker->require_subcommand(1);
  CLI::App* list = worker->add_subcommand("list", "Workers with state, host groups, slots, load");
  list->callback([ctx] { RunCommand([&] { return List(*ctx); }); });
  auto id = std::make_shared<std::string>();
  for (const bool drain : {true, false}) {
    CLI::App* cmd = worker->add_subcommand(
        drain ? "drain" : "undrain",
        drain ? "Take nothing new; finish what runs (admin)" : "Take work again (admin)");
    cmd->add_option("ID", *id, "Worker id")->required();
    cmd->callback([ctx, id, drain] { RunCommand([&] { return Drain(*ctx, *id, drain); }); });
  }
  auto since = std::make_shared<std::string>();
  CLI::App* metrics = worker->add_subcommand("metrics", "A worker's heartbeat metrics history");
  metrics->add_option("ID", *id, "Worker id")->required();
  metrics->add_option("--since", *since, "Only samples after this time (ISO-8601)");
  metrics->callback([ctx, id, since] { RunCommand([&] { return Metrics(*ctx, *id, *since); }); });
}

}  // namespace hera::cli
