#include "api/graph_routes.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/request_util.h"
#include "common/time_format.h"
#include "core/job_graph.h"
#include "core/json_codec.h"
#include "cron/cron_expr.h"

namespace hera::api {
namespace {

using nlohmann::json;

constexpr int64_t kDefaultDepth = 3;
constexpr int64_t kMaxDepth = 50;

// What the graph is built for: one request's "now" and day, in the server's zone.
struct Today {
  absl::Time now;
  absl::Time start;  // start of today
  absl::Time end;    // start of tomorrow
  absl::TimeZone tz;
};

// "08:00", or "08:00:30" when the seconds matter; with the date when it is not today.
std::string ClockText(absl::Time t, const Today& day) {
  const bool today = t >= day.start && t < day.end;
  const bool seconds = absl::ToCivilSecond(t, day.tz).second() != 0;
  return absl::FormatTime(absl::StrCat(today ? "" : "%Y-%m-%d ", seconds ? "%H:%M:%S" : "%H:%M"), t,
                          day.tz);
}

// The job's action of today that matters now: among its scheduled actions, the latest whose
// time has come, else the next one; a job with none today shows its latest manual one.
const core::Action* PickToday(const std::vector<const core::Action*>& actions, absl::Time now) {
  for (const bool manual : {false, true}) {
    const core::Action* latest_due = nullptr;
    const core::Action* next = nullptr;
    for (const core::Action* a : actions) {  // ordered by time, then id
      if (a->manual != manual) continue;
      if (a->scheduled_time <= now) {
        latest_due = a;
      } else if (!next) {
        next = a;
      }
    }
    if (latest_due || (next && !manual)) return latest_due ? latest_due : next;
  }
  return nullptr;
}

// Why a job without an action today has none.
std::string WhyNoAction(const core::Job& job, const Today& day, bool upstream_has_actions) {
  if (job.schedule.cron.empty() && job.schedule.depends_on.empty()) {
    return "no schedule: runs only by hand";
  }
  if (!job.schedule.cron.empty()) {
    absl::TimeZone zone = day.tz;
    if (!job.schedule.timezone.empty()) absl::LoadTimeZone(job.schedule.timezone, &zone);
    auto cron = cron::CronExpr::Parse(job.schedule.cron);
    if (cron.ok()) {
      if (auto next = cron->NextAfter(day.now, zone)) {
        return absl::StrCat("not scheduled today; next at ", ClockText(*next, day));
      }
      return "its cron never fires again";
    }
    return "not scheduled today";
  }
  return upstream_has_actions ? "no action today"
                              : "no action today: none of its upstream jobs has one";
}

// Why the job has not run (or how it ran), for the DAG's "why not running" view.
std::string Why(const core::Job& job, const core::Action* today, const Today& day,
                bool upstream_has_actions) {
  if (!job.enabled) return "disabled";
  if (!today) return WhyNoAction(job, day, upstream_has_actions);
  const std::string& reason = today->reason;
  switch (today->status) {
    case core::ActionStatus::kPending:
      return absl::StrCat("waiting for its time (", ClockText(today->scheduled_time, day), ")");
    case core::ActionStatus::kWaiting:
      return reason.empty() ? "waiting for its upstream jobs" : reason;
    case core::ActionStatus::kQueued:
      // A retry waits queued with "retry 1 of 3 at … after: exit code 1" as its reason.
      return reason.empty() ? "queued: waiting for a free worker slot"
                            : absl::StrCat("queued: ", reason);
    case core::ActionStatus::kRunning:
      return "running";
    case core::ActionStatus::kSuccess:
      return absl::StrCat("succeeded at ", ClockText(today->updated_at, day));
    case core::ActionStatus::kFailed:
      return reason.empty() ? "failed" : absl::StrCat("failed: ", reason);
    case core::ActionStatus::kCancelled:
      return reason.empty() ? "cancelled" : absl::StrCat("cancelled: ", reason);
    case core::ActionStatus::kSkipped:
      if (reason.empty()) return "skipped";
      return absl::StartsWith(reason, "skipped") ? reason : absl::StrCat("skipped: ", reason);
  }
  return core::Name(today->status);
}

std::string PeriodOf(const core::Job& downstream, core::JobId upstream) {
  for (const auto& d : downstream.schedule.depends_on) {
    if (d.job_id == upstream) return core::Name(d.period);
  }
  return core::Name(core::DependencyPeriod::kNearest);
}

HttpResponse GraphOf(const ApiContext& c, HttpRequest& req) {
  HERA_TRY(int64_t root, PathId(req));
  std::string direction = "both";
  if (auto it = req.query.find("direction"); it != req.query.end() && !it->second.empty()) {
    direction = it->second;
    if (direction != "up" && direction != "down" && direction != "both") {
      return ErrorResponse(absl::InvalidArgumentError(
          absl::StrCat("query parameter 'direction': '", direction, "' is not up, down or both")));
    }
  }
  HERA_TRY(int64_t depth, QueryInt(req, "depth", kDefaultDepth, 1, kMaxDepth));

  // Built from the store on every call: fine for thousands of jobs. At 100k jobs the engine's
  // in-memory graph (a snapshot handed to readers) would answer without reading every job.
  HERA_TRY(std::vector<core::Job> jobs, c.store->ListAllJobs());
  std::unordered_map<core::JobId, const core::Job*> by_id;
  std::vector<const core::Job*> ptrs;
  by_id.reserve(jobs.size());
  ptrs.reserve(jobs.size());
  for (const auto& j : jobs) {
    by_id[j.id] = &j;
    ptrs.push_back(&j);
  }
  if (!by_id.contains(root)) {
    return ErrorResponse(absl::NotFoundError(absl::StrCat("job ", root, " does not exist")));
  }
  const core::JobGraph graph = core::JobGraph::FromJobs(ptrs);

  struct Node {
    core::JobId id;
    int depth;
    const char* side;
  };
  std::vector<Node> nodes = {{root, 0, "root"}};
  const int max_depth = static_cast<int>(depth);
  if (direction != "down") {
    for (const auto& r : graph.UpstreamClosure(root, max_depth)) {
      nodes.push_back({r.job, r.depth, "up"});
    }
  }
  if (direction != "up") {
    for (const auto& r : graph.DownstreamClosure(root, max_depth)) {
      nodes.push_back({r.job, r.depth, "down"});
    }
  }
  std::erase_if(nodes, [&](const Node& n) { return !by_id.contains(n.id); });
  std::unordered_set<core::JobId> in_graph;
  for (const Node& n : nodes) in_graph.insert(n.id);

  Today day;
  day.tz = c.tz;
  day.now = absl::Now();
  const absl::CivilDay civil = absl::ToCivilDay(day.now, c.tz);
  day.start = absl::FromCivil(civil, c.tz);
  day.end = absl::FromCivil(civil + 1, c.tz);
  // One read for every node: today's actions of all jobs, grouped by job.
  HERA_TRY(std::vector<core::Action> actions, c.store->ListActionsBetween(day.start, day.end));
  std::unordered_map<core::JobId, std::vector<const core::Action*>> today_of;
  for (const auto& a : actions) today_of[a.job_id].push_back(&a);

  json out_nodes = json::array();
  json out_edges = json::array();
  for (const Node& n : nodes) {
    const core::Job& job = *by_id.at(n.id);
    const auto it = today_of.find(n.id);
    const core::Action* today = it == today_of.end() ? nullptr : PickToday(it->second, day.now);
    bool upstream_has_actions = false;
    for (const core::JobId up : graph.upstream(n.id)) {
      upstream_has_actions = upstream_has_actions || today_of.contains(up);
      if (in_graph.contains(up)) {
        out_edges.push_back({{"from", up}, {"to", n.id}, {"period", PeriodOf(job, up)}});
      }
    }
    json today_json = nullptr;
    if (today) {
      today_json = {{"action_id", today->id},
                    {"scheduled_time", FormatIsoTime(today->scheduled_time, c.tz)},
                    {"status", core::Name(today->status)},
                    {"reason", today->reason}};
    }
    out_nodes.push_back({{"id", job.id},
                         {"name", job.name},
                         {"group_id", job.group_id},
                         {"enabled", job.enabled},
                         {"cron", job.schedule.cron},
                         {"depth", n.depth},
                         {"side", n.side},
                         {"today", today_json},
                         {"why", Why(job, today, day, upstream_has_actions)}});
  }
  return JsonResponse(200, {{"root", root},
                            {"direction", direction},
                            {"depth", depth},
                            {"nodes", out_nodes},
                            {"edges", out_edges}});
}

}  // namespace

void AddGraphRoutes(Router& r, const ApiContext& c) {
  r.Add(
      "GET", "/api/v1/jobs/{id}/graph",
      Authenticated(c.auth, [c](HttpRequest& req, const core::User&) { return GraphOf(c, req); }));
}

}  // namespace hera::api
