// `hera ctl job revisions|diff|restore|graph`: a job's history and its place in the DAG.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/ctl_api.h"
#include "cli/ctl_context.h"
#include "cli/ctl_format.h"
#include "cli/ctl_table_printer.h"
#include "common/status.h"
#include "common/strings.h"

namespace hera::cli {
namespace {

// Lines of unchanged script shown around each change in `job diff`.
constexpr size_t kContextLines = 3;

// `text` in `color` when colours are on.
std::string Paint(std::string_view text, Color color, bool on) {
  const char* sgr = "";
  switch (color) {
    case Color::kRed:
      sgr = "\033[31m";
      break;
    case Color::kGreen:
      sgr = "\033[32m";
      break;
    case Color::kYellow:
      sgr = "\033[33m";
      break;
    case Color::kCyan:
      sgr = "\033[36m";
      break;
    case Color::kDim:
      sgr = "\033[2m";
      break;
    case Color::kBold:
      sgr = "\033[1m";
      break;
    case Color::kNone:
      break;
  }
  if (!on || *sgr == '\0') return std::string(text);
  return absl::StrCat(sgr, AsAbsl(text), "\033[0m");
}

// A field value on one line: strings as they are, "" as "(empty)", null as "(none)", others as
// JSON.
std::string ValueText(const Json& v) {
  if (v.is_null()) return "(none)";
  if (v.is_string() && v.get_ref<const std::string&>().empty()) return "(empty)";
  return CellText(v.is_string() ? v.get<std::string>() : v.dump());
}

absl::Status ListRevisions(CtlContext& ctx, int64_t id) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(absl::StrCat("/jobs/", id, "/revisions")));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  TablePrinter table({"REV", "SAVED", "AUTHOR", "CHANGED"});
  table.SetAlign(0, TablePrinter::Align::kRight);
  for (const Json& r : resp.value("items", Json::array())) {
    std::vector<std::string> fields;
    for (const Json& f : r.value("changed_fields", Json::array())) {
      if (f.is_string()) fields.push_back(f.get<std::string>());
    }
    table.AddRow({FieldText(r, "version"), LocalTimeText(r, "saved_at"), FieldText(r, "author"),
                  fields.empty() ? "(created)" : absl::StrJoin(fields, ", ")});
  }
  Print(table.Render(StdoutColor()));
  return absl::OkStatus();
}

// The script's line diff, as unified-diff lines with kContextLines of context around changes.
std::string ScriptDiffText(const Json& lines, bool color) {
  std::vector<std::pair<char, std::string>> all;
  for (const Json& l : lines) {
    const std::string op = l.value("op", " ");
    all.emplace_back(op.empty() ? ' ' : op[0], l.value("text", ""));
  }
  std::vector<bool> shown(all.size(), false);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].first == ' ') continue;
    const size_t lo = i >= kContextLines ? i - kContextLines : 0;
    const size_t hi = std::min(all.size(), i + kContextLines + 1);
    for (size_t k = lo; k < hi; ++k) shown[k] = true;
  }
  std::string out;
  bool gap = false;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!shown[i]) {
      gap = true;
      continue;
    }
    if (gap) absl::StrAppend(&out, Paint("  ...", Color::kDim, color), "\n");
    gap = false;
    const auto& [op, text] = all[i];
    const Color c = op == '-' ? Color::kRed : op == '+' ? Color::kGreen : Color::kNone;
    absl::StrAppend(
        &out, Paint(absl::StrCat("  ", std::string(1, op), " ", CellText(text)), c, color), "\n");
  }
  if (gap) absl::StrAppend(&out, Paint("  ...", Color::kDim, color), "\n");
  return out;
}

absl::Status Diff(CtlContext& ctx, int64_t id, int64_t rev, const std::string& against) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  std::string path = absl::StrCat("/jobs/", id, "/revisions/", rev, "/diff");
  if (!against.empty()) absl::StrAppend(&path, "?against=", HttpClient::Escape(against));
  HERA_ASSIGN_OR_RETURN(Json resp, api->Get(path));
  if (ctx.json) {
    PrintJson(resp);
    return absl::OkStatus();
  }
  const bool color = StdoutColor();
  const Json from = resp.value("from", Json(nullptr));
  std::string out = absl::StrCat(
      "job ", id, ": ",
      from.is_null()
          ? "(nothing)"
          : absl::StrCat(against == "current" ? "current version " : "revision ", from.dump()),
      " -> revision ", rev, "\n");
  const Json changes = resp.value("changes", Json::array());
  if (changes.empty()) absl::StrAppend(&out, "no differences\n");
  for (const Json& c : changes) {
    const std::string field = c.value("field", "");
    if (c.contains("lines") && c["lines"].is_array()) {
      absl::StrAppend(&out, field, ":\n", ScriptDiffText(c["lines"], color));
      continue;
    }
    absl::StrAppend(&out, field, ": ",
                    Paint(ValueText(c.value("before", Json(nullptr))), Color::kRed, color), " -> ",
                    Paint(ValueText(c.value("after", Json(nullptr))), Color::kGreen, color), "\n");
  }
  Print(out);
  return absl::OkStatus();
}

absl::Status Restore(CtlContext& ctx, int64_t id, int64_t rev) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  HERA_ASSIGN_OR_RETURN(
      Json job,
      api->Post(absl::StrCat("/jobs/", id, "/revisions/", rev, "/restore"), Json::object()));
  if (ctx.json) {
    PrintJson(job);
    return absl::OkStatus();
  }
  std::vector<std::string> fields;
  for (const Json& f : job.value("changed_fields", Json::array())) {
    if (f.is_string()) fields.push_back(f.get<std::string>());
  }
  if (fields.empty()) {
    Print(absl::StrCat("job ", id, " already matches revision ", rev, " (version ",
                       FieldText(job, "version"), " unchanged)\n"));
  } else {
    Print(absl::StrCat("job ", id, " restored to revision ", rev, " (now version ",
                       FieldText(job, "version"), "; changed: ", absl::StrJoin(fields, ", "),
                       ")\n"));
  }
  return absl::OkStatus();
}

struct GraphFlags {
  int64_t id = 0;
  bool up = false;
  bool down = false;
  int64_t depth = 3;
};

// Renders the graph answer as indented trees: the root, then its upstream jobs (what it waits
// for) and its downstream jobs (what it affects). A job reached a second time is named but not
// expanded again.
class GraphPrinter {
 public:
  GraphPrinter(const Json& graph, bool color) : color_(color) {
    for (const Json& n : graph.value("nodes", Json::array())) {
      nodes_[n.value("id", int64_t{0})] = n;
    }
    for (const Json& e : graph.value("edges", Json::array())) {
      const int64_t from = e.value("from", int64_t{0}), to = e.value("to", int64_t{0});
      ups_[to].push_back(from);
      downs_[from].push_back(to);
    }
  }

  std::string Render(int64_t root) {
    std::string out = absl::StrCat(NodeText(root), "\n");
    for (const bool up : {true, false}) {
      std::vector<int64_t> kids = Children(root, up);
      if (kids.empty()) continue;
      absl::StrAppend(&out, up ? "upstream (waits for):\n" : "downstream (affects):\n");
      seen_ = {root};
      for (size_t i = 0; i < kids.size(); ++i) Walk(kids[i], up, "", i + 1 == kids.size(), &out);
    }
    return out;
  }

 private:
  // Related nodes on one side: only nodes of that side of the answer (and never the root).
  std::vector<int64_t> Children(int64_t id, bool up) {
    std::vector<int64_t> out;
    const std::string side = up ? "up" : "down";
    for (int64_t k : (up ? ups_ : downs_)[id]) {
      auto it = nodes_.find(k);
      if (it != nodes_.end() && it->second.value("side", "") == side) out.push_back(k);
    }
    return out;
  }

  void Walk(int64_t id, bool up, const std::string& prefix, bool last, std::string* out) {
    absl::StrAppend(out, prefix, last ? "└─ " : "├─ ", NodeText(id));
    if (!seen_.insert(id).second) {
      absl::StrAppend(out, Paint(" (shown above)", Color::kDim, color_), "\n");
      return;
    }
    absl::StrAppend(out, "\n");
    const std::vector<int64_t> kids = Children(id, up);
    for (size_t i = 0; i < kids.size(); ++i) {
      Walk(kids[i], up, prefix + (last ? "   " : "│  "), i + 1 == kids.size(), out);
    }
  }

  // "load #3  failed  failed: exit code 1".
  std::string NodeText(int64_t id) {
    const auto it = nodes_.find(id);
    if (it == nodes_.end() || !it->second.is_object()) return absl::StrCat("#", id);
    const Json& n = it->second;
    const Json today = n.value("today", Json(nullptr));
    const std::string status = today.is_object()           ? FieldText(today, "status")
                               : n.value("enabled", false) ? "-"
                                                           : "disabled";
    return absl::StrCat(CellText(n.value("name", "")), " #", id, "  ",
                        Paint(status, StatusColor(status), color_), "  ",
                        CellText(n.value("why", "")));
  }

  bool color_;
  std::unordered_map<int64_t, Json> nodes_;
  std::unordered_map<int64_t, std::vector<int64_t>> ups_, downs_;
  std::set<int64_t> seen_;
};

absl::Status Graph(CtlContext& ctx, const GraphFlags& f) {
  HERA_ASSIGN_OR_RETURN(ApiClient * api, ctx.Api());
  const char* direction = f.up && !f.down ? "up" : f.down && !f.up ? "down" : "both";
  HERA_ASSIGN_OR_RETURN(
      Json graph,
      api->Get(absl::StrCat("/jobs/", f.id, "/graph?direction=", direction, "&depth=", f.depth)));
  if (ctx.json) {
    PrintJson(graph);
    return absl::OkStatus();
  }
  Print(GraphPrinter(graph, StdoutColor()).Render(f.id));
  return absl::OkStatus();
}

}  // namespace

void AddHistoryCommands(CLI::App* job, const std::shared_ptr<CtlContext>& ctx) {
  auto id = std::make_shared<int64_t>(0);
  CLI::App* revisions =
      job->add_subcommand("revisions", "A job's saved revisions, newest first (who, when, what)");
  revisions->add_option("ID", *id, "Job id")->required()->check(CLI::PositiveNumber);
  revisions->callback([ctx, id] { RunCommand([&] { return ListRevisions(*ctx, *id); }); });

  struct DiffFlags {
    int64_t id = 0, rev = 0;
    std::string against;
  };
  auto diff_flags = std::make_shared<DiffFlags>();
  CLI::App* diff = job->add_subcommand(
      "diff", "What changed in a revision: against the one before it, another, or the job now");
  diff->add_option("ID", diff_flags->id, "Job id")->required()->check(CLI::PositiveNumber);
  diff->add_option("REV", diff_flags->rev, "Revision (version)")
      ->required()
      ->check(CLI::PositiveNumber);
  diff->add_option("--against", diff_flags->against,
                   "Revision to compare with, or 'current' (default: the revision before REV)");
  diff->callback([ctx, diff_flags] {
    RunCommand([&] { return Diff(*ctx, diff_flags->id, diff_flags->rev, diff_flags->against); });
  });

  auto ids = std::make_shared<std::pair<int64_t, int64_t>>(0, 0);
  CLI::App* restore = job->add_subcommand(
      "restore", "Save a revision's definition as the job's new version (enabled is kept)");
  restore->add_option("ID", ids->first, "Job id")->required()->check(CLI::PositiveNumber);
  restore->add_option("REV", ids->second, "Revision (version)")
      ->required()
      ->check(CLI::PositiveNumber);
  restore->callback(
      [ctx, ids] { RunCommand([&] { return Restore(*ctx, ids->first, ids->second); }); });

  auto graph_flags = std::make_shared<GraphFlags>();
  CLI::App* graph = job->add_subcommand(
      "graph", "A job's upstream and downstream jobs with today's status and why each waits");
  graph->add_option("ID", graph_flags->id, "Job id")->required()->check(CLI::PositiveNumber);
  auto* up = graph->add_flag("--up", graph_flags->up, "Only what it waits for (upstream)");
  auto* down = graph->add_flag("--down", graph_flags->down, "Only what it affects (downstream)");
  up->excludes(down);
  graph->add_option("--depth", graph_flags->depth, "Levels to show, 1-50 (default 3)")
      ->check(CLI::Range(1, 50));
  graph->callback([ctx, graph_flags] { RunCommand([&] { return Graph(*ctx, *graph_flags); }); });
}

}  // namespace hera::cli
