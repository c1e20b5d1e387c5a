#include "api/graph_routes.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/request_util.h"
#include "common/time_format.h"
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

  // The nodes come from the engine's catalog and each node's actions from the store by job:
  // the cost is the graph's, whatever the number of jobs.
  HERA_TRY(std::vector<core::GraphNode> nodes,
           c.engine->GraphAround(root, direction != "down", direction != "up",
                                 static_cast<int>(depth)));
  std::unordered_set<core::JobId> in_graph;
  for (const core::GraphNode& n : nodes) in_graph.insert(n.job.id);

  Today day;
  day.tz = c.tz;
  day.now = absl::Now();
  const absl::CivilDay civil = absl::ToCivilDay(day.now, c.tz);
  day.start = absl::FromCivil(civil, c.tz);
  day.end = absl::FromCivil(civil + 1, c.tz);
  // Today's actions of the nodes and of their upstream jobs, read once per job.
  std::unordered_map<core::JobId, std::vector<core::Action>> today_of;
  auto today_actions = [&](core::JobId job) -> absl::StatusOr<const std::vector<core::Action>*> {
    auto it = today_of.find(job);
    if (it == today_of.end()) {
      auto actions = c.store->ListActions(job, day.start, day.end);
      if (!actions.ok()) return actions.status();
      it = today_of.emplace(job, *std::move(actions)).first;
    }
    return &it->second;
  };

  json out_nodes = json::array();
  json out_edges = json::array();
  for (const core::GraphNode& n : nodes) {
    const core::Job& job = n.job;
    HERA_TRY(const std::vector<core::Action>* actions, today_actions(job.id));
    std::vector<const core::Action*> ptrs;
    for (const auto& a : *actions) ptrs.push_back(&a);
    const core::Action* today = PickToday(ptrs, day.now);
    bool upstream_has_actions = false;
    std::unordered_set<core::JobId> ups;
    for (const auto& d : job.schedule.depends_on) {
      if (!ups.insert(d.job_id).second) continue;
      HERA_TRY(const std::vector<core::Action>* up_actions, today_actions(d.job_id));
      upstream_has_actions = upstream_has_actions || !up_actions->empty();
      if (in_graph.contains(d.job_id)) {
        out_edges.push_back({{"from", d.job_id}, {"to", job.id}, {"period", core::Name(d.period)}});
      }
    }
    json today_json = nullptr;
    if (today) {
      today_json = {{"action_id", today->id},
                    {"scheduled_time", FormatIsoTime(today->scheduled_time, c.tz)},
                    {"status", core::Name(today->status)},
                    {"reason", today->reason}};
    }
    const char* side = n.side == core::GraphNode::Side::kRoot ? "root"
                       : n.side == core::GraphNode::Side::kUp ? "up"
                                                              : "down";
    out_nodes.push_back({{"id", job.id},
                         {"name", job.name},
                         {"group_id", job.group_id},
                         {"enabled", job.enabled},
                         {"cron", job.schedule.cron},
                         {"depth", n.depth},
                         {"side", side},
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
