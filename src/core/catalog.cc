#include "core/catalog.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/job_graph.h"
#include "core/json_codec.h"
#include "cron/cron_expr.h"

namespace hera::core {
namespace {

constexpr size_t kMaxFiresPerDay = 2880;

using nlohmann::json;

absl::Status CheckGroupName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("field 'name': is required");
  if (name.find('/') != std::string::npos) {
    // Groups are shown as paths ("etl/daily"): a '/' in a name would make two paths one.
    return absl::InvalidArgumentError("field 'name': must not contain '/'");
  }
  return CheckName(name, "name");
}

// Applies the editable group fields in `body`; unknown fields are errors.
absl::Status ApplyGroupJson(const json& body, Group* group) {
  if (!body.is_object()) {
    return absl::InvalidArgumentError("the request body must be a JSON object");
  }
  for (const auto& [key, value] : body.items()) {
    if (key == "name" || key == "description" || key == "owner") {
      if (!value.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat("field '", key, "': must be a string"));
      }
      std::string v = value.get<std::string>();
      if (key == "name") {
        group->name = std::move(v);
      } else if (key == "description") {
        if (auto st = CheckDescription(v, key); !st.ok()) return st;
        group->description = std::move(v);
      } else {
        if (auto st = CheckOwner(v, key); !st.ok()) return st;
        group->owner = std::move(v);
      }
    } else if (key == "parent_id") {
      if (value.is_null()) {
        group->parent_id.reset();
      } else if (value.is_number_integer() && value.get<int64_t>() > 0) {
        group->parent_id = value.get<int64_t>();
      } else {
        return absl::InvalidArgumentError("field 'parent_id': must be a group id or null");
      }
    } else if (key == "configs") {
      auto configs = ConfigsFromJson(value, "configs");
      if (!configs.ok()) return configs.status();
      group->configs = *std::move(configs);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("field '", key, "': unknown field"));
    }
  }
  return CheckGroupName(group->name);
}

}  // namespace

void Catalog::Load(std::vector<Group> groups, std::vector<Job> jobs) {
  zone_memo_.clear();
  groups_.clear();
  jobs_.clear();
  job_names_.clear();
  dependents_.clear();
  for (auto& g : groups) PutGroup(g);
  for (auto& j : jobs) PutJob(j);
}

const Group* Catalog::FindGroup(GroupId id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

const Job* Catalog::FindJob(JobId id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

absl::Status Catalog::CheckGroupPlacement(const Group& group) const {
  if (group.parent_id) {
    if (!FindGroup(*group.parent_id)) {
      return absl::NotFoundError(
          absl::StrCat("field 'parent_id': group ", *group.parent_id, " does not exist"));
    }
    // Walking up from the new parent must not reach the group itself (a cycle).
    for (std::optional<GroupId> p = group.parent_id; p; p = FindGroup(*p)->parent_id) {
      if (*p == group.id) {
        return absl::InvalidArgumentError(
            "field 'parent_id': a group cannot be moved under itself or its descendants");
      }
    }
  }
  for (const auto& [id, other] : groups_) {
    if (id != group.id && other.parent_id == group.parent_id && other.name == group.name) {
      return absl::AlreadyExistsError(
          absl::StrCat("a group named '", group.name, "' already exists here (id ", id, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Group> Catalog::PrepareNewGroup(GroupId id, const json& body,
                                               const std::string& actor, absl::Time now) const {
  Group group;
  group.id = id;
  group.owner = actor;
  group.created_at = group.updated_at = now;
  if (auto st = ApplyGroupJson(body, &group); !st.ok()) return st;
  if (auto st = CheckGroupPlacement(group); !st.ok()) return st;
  return group;
}

absl::StatusOr<Group> Catalog::PrepareGroupUpdate(GroupId id, const json& body,
                                                  absl::Time now) const {
  const Group* current = FindGroup(id);
  if (!current) return absl::NotFoundError(absl::StrCat("group ", id, " does not exist"));
  Group group = *current;
  if (auto st = ApplyGroupJson(body, &group); !st.ok()) return st;
  if (auto st = CheckGroupPlacement(group); !st.ok()) return st;
  group.version += 1;
  group.updated_at = now;
  return group;
}

absl::Status Catalog::CheckGroupDeletable(GroupId id) const {
  if (!FindGroup(id)) return absl::NotFoundError(absl::StrCat("group ", id, " does not exist"));
  for (const auto& [gid, g] : groups_) {
    if (g.parent_id == id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "group ", id, " is not empty: it holds group ", gid, " ('", g.name, "')"));
    }
  }
  for (const auto& [jid, j] : jobs_) {
    if (j.group_id == id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "group ", id, " is not empty: it holds job ", jid, " ('", j.name, "')"));
    }
  }
  return absl::OkStatus();
}

absl::Status Catalog::CheckJob(const Job& job, const Job* previous, absl::Time now) const {
  if (job.name.empty()) return absl::InvalidArgumentError("field 'name': is required");
  if (job.group_id == 0) return absl::InvalidArgumentError("field 'group_id': is required");
  if (!FindGroup(job.group_id)) {
    return absl::NotFoundError(
        absl::StrCat("field 'group_id': group ", job.group_id, " does not exist"));
  }
  auto it = job_names_.find({job.group_id, job.name});
  if (it != job_names_.end() && it->second != job.id) {
    return absl::AlreadyExistsError(absl::StrCat("a job named '", job.name,
                                                 "' already exists in group ", job.group_id,
                                                 " (id ", it->second, ")"));
  }
  if (!job.schedule.cron.empty()) {
    auto cron = cron::CronExpr::Parse(job.schedule.cron);
    if (!cron.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field 'schedule.cron': ", cron.status().message()));
    }
    // An expression that matches no time (Feb 30, a year gone by) would plan nothing and
    // never say why, like @reboot, which the parser refuses. Checked when the cron is saved,
    // not at every save: a job whose last year has passed can still be disabled or edited.
    const bool cron_changed = !previous || previous->schedule.cron != job.schedule.cron;
    if (cron_changed && !cron->NextAfter(now, absl::UTCTimeZone())) {
      return absl::InvalidArgumentError(absl::StrCat("field 'schedule.cron': '",
                                                     job.schedule.cron,
                                                     "' never fires: no time matches it"));
    }
    // Every fire time becomes an action planned two days ahead: bound how many a day makes.
    const auto fires = cron->AllIn(job.updated_at, job.updated_at + absl::Hours(24),
                                   absl::UTCTimeZone(), kMaxFiresPerDay + 1);
    if (fires.size() > kMaxFiresPerDay) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field 'schedule.cron': '", job.schedule.cron, "' fires more than ", kMaxFiresPerDay,
          " times a day (every 30 s on average); each time is an action, so pick a coarser "
          "schedule"));
    }
  }
  std::vector<JobId> upstreams;
  for (size_t i = 0; i < job.schedule.depends_on.size(); ++i) {
    const JobId up = job.schedule.depends_on[i].job_id;
    upstreams.push_back(up);
    const std::string field = absl::StrCat("schedule.depends_on[", i, "].job_id");
    if (up == job.id) {
      return absl::InvalidArgumentError(absl::StrCat("field '", field,
                                                     "': a job cannot depend on itself "
                                                     "(use schedule.self_dependency)"));
    }
    const Job* upstream = FindJob(up);
    if (!upstream) {
      return absl::NotFoundError(absl::StrCat("field '", field, "': job ", up, " does not exist"));
    }
    if (job.enabled && !upstream->enabled) {
      return absl::FailedPreconditionError(absl::StrCat(
          "field '", field, "': job ", up, " ('", upstream->name,
          "') is disabled; an enabled job cannot depend on it"));
    }
  }
  if (auto cycle = CycleIfSaved(job.id, upstreams); !cycle.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("field 'schedule.depends_on': ", DescribeCycleIfSaved(job.id, cycle)));
  }
  return absl::OkStatus();
}

std::vector<JobId> Catalog::CycleIfSaved(JobId job, const std::vector<JobId>& upstreams) const {
  // Breadth-first up the "depends on" edges from the new upstreams: reaching `job` again is
  // a cycle, and the first time is the shortest one.
  std::map<JobId, JobId> came_from;  // node → the node it was reached from
  std::vector<JobId> frontier;
  for (JobId up : upstreams) {
    if (came_from.emplace(up, job).second) frontier.push_back(up);
  }
  for (size_t i = 0; i < frontier.size(); ++i) {
    const JobId at = frontier[i];
    if (at == job) {
      std::vector<JobId> path{job};
      for (JobId n = came_from.at(job); n != job; n = came_from.at(n)) path.push_back(n);
      // path is job ← … (reverse order of discovery); the cycle reads job → up → … → job.
      std::vector<JobId> cycle{job};
      for (auto it = path.rbegin(); it != path.rend(); ++it) {
        if (*it != job) cycle.push_back(*it);
      }
      cycle.push_back(job);
      return cycle;
    }
    const Job* j = FindJob(at);
    if (!j) continue;
    for (const auto& d : j->schedule.depends_on) {
      if (came_from.emplace(d.job_id, at).second) frontier.push_back(d.job_id);
    }
  }
  return {};
}

std::vector<JobId> Catalog::WithDownstream(JobId id) const {
  std::vector<JobId> out{id};
  std::set<JobId> seen{id};
  for (size_t i = 0; i < out.size(); ++i) {
    auto it = dependents_.find(out[i]);
    if (it == dependents_.end()) continue;
    for (JobId down : it->second) {
      if (seen.insert(down).second) out.push_back(down);
    }
  }
  return out;
}

std::string Catalog::ZoneNameOf(const Job& job) const {
  if (!job.schedule.timezone.empty() || !job.schedule.cron.empty() ||
      job.schedule.depends_on.empty()) {
    return job.schedule.timezone;
  }
  return ZoneOf(job).name;
}

JobZone Catalog::ZoneOf(const Job& job) const {
  // Most jobs name a zone, have a cron or have no upstream: no lookup at all.
  if (!job.schedule.timezone.empty() || !job.schedule.cron.empty() ||
      job.schedule.depends_on.empty()) {
    return ZoneOfJob(job, nullptr);
  }
  return ZoneOfJob(job, [this](JobId id) { return FindJob(id); }, &zone_memo_);
}

std::vector<JobId> Catalog::UpstreamFirst() const {
  // Kahn's algorithm over the dependents index: a job is placed once its last upstream is.
  absl::flat_hash_map<JobId, int> waiting_for;
  waiting_for.reserve(jobs_.size());
  std::vector<JobId> out;
  out.reserve(jobs_.size());
  std::vector<JobId> ups;
  for (const auto& [id, job] : jobs_) {
    ups.clear();
    for (const auto& d : job.schedule.depends_on) {
      if (d.job_id != id && jobs_.count(d.job_id)) ups.push_back(d.job_id);
    }
    std::sort(ups.begin(), ups.end());
    const auto n = std::unique(ups.begin(), ups.end()) - ups.begin();
    if (n == 0) {
      out.push_back(id);
    } else {
      waiting_for[id] = static_cast<int>(n);
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    auto it = dependents_.find(out[i]);
    if (it == dependents_.end()) continue;
    for (JobId down : it->second) {
      auto w = waiting_for.find(down);
      if (w != waiting_for.end() && --w->second == 0) out.push_back(down);
    }
  }
  return out;
}

std::vector<std::pair<JobId, int>> Catalog::Around(JobId id, bool up, int max_depth) const {
  std::vector<std::pair<JobId, int>> out;
  if (!FindJob(id)) return out;
  std::set<JobId> seen{id};
  std::vector<JobId> frontier{id};
  for (int depth = 1; depth <= max_depth && !frontier.empty(); ++depth) {
    std::vector<JobId> next;
    for (JobId j : frontier) {
      std::vector<JobId> neighbours;
      if (up) {
        for (const auto& d : FindJob(j)->schedule.depends_on) {
          if (FindJob(d.job_id)) neighbours.push_back(d.job_id);
        }
      } else {
        neighbours = Dependents(j);
      }
      for (JobId n : neighbours) {
        if (seen.insert(n).second) next.push_back(n);
      }
    }
    std::sort(next.begin(), next.end());
    for (JobId n : next) out.emplace_back(n, depth);
    frontier = std::move(next);
  }
  return out;
}

std::vector<const Job*> Catalog::AllJobs() const {
  std::vector<const Job*> out;
  out.reserve(jobs_.size());
  for (const auto& [id, j] : jobs_) out.push_back(&j);
  return out;
}

std::vector<JobId> Catalog::JobIds() const {
  std::vector<JobId> out;
  out.reserve(jobs_.size());
  for (const auto& [id, j] : jobs_) out.push_back(id);
  return out;
}

absl::StatusOr<Job> Catalog::PrepareNewJob(JobId id, const json& body, const std::string& actor,
                                           absl::Time now) const {
  Job job;
  job.id = id;
  job.owner = actor;
  job.version = 1;
  job.created_at = job.updated_at = now;
  if (auto st = ApplyJobJson(body, &job); !st.ok()) return st;
  if (auto st = CheckJob(job, nullptr, now); !st.ok()) return st;
  return job;
}

absl::StatusOr<Job> Catalog::PrepareJobUpdate(JobId id, const json& body, absl::Time now) const {
  const Job* current = FindJob(id);
  if (!current) return absl::NotFoundError(absl::StrCat("job ", id, " does not exist"));
  Job job = *current;
  if (auto st = ApplyJobJson(body, &job); !st.ok()) return st;
  if (auto st = CheckJob(job, current, now); !st.ok()) return st;
  job.version += 1;
  job.updated_at = now;
  return job;
}

std::vector<JobId> Catalog::Dependents(JobId id) const {
  auto it = dependents_.find(id);
  if (it == dependents_.end()) return {};
  return std::vector<JobId>(it->second.begin(), it->second.end());
}

absl::Status Catalog::CheckJobDeletable(JobId id) const {
  const Job* job = FindJob(id);
  if (!job) return absl::NotFoundError(absl::StrCat("job ", id, " does not exist"));
  if (job->enabled) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", id, " is enabled; disable it before deleting it"));
  }
  if (auto deps = Dependents(id); !deps.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", id, " cannot be deleted: jobs ", absl::StrJoin(deps, ", "), " depend on it"));
  }
  return absl::OkStatus();
}

void Catalog::PutGroup(const Group& group) { groups_[group.id] = group; }

void Catalog::RemoveGroup(GroupId id) { groups_.erase(id); }

void Catalog::PutJob(const Job& job) {
  zone_memo_.clear();  // an upstream, zone or cron may have changed
  RemoveJob(job.id);
  jobs_[job.id] = job;
  job_names_[{job.group_id, job.name}] = job.id;
  for (const auto& d : job.schedule.depends_on) dependents_[d.job_id].insert(job.id);
}

void Catalog::RemoveJob(JobId id) {
  zone_memo_.clear();
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  job_names_.erase({it->second.group_id, it->second.name});
  for (const auto& d : it->second.schedule.depends_on) {
    auto deps = dependents_.find(d.job_id);
    if (deps == dependents_.end()) continue;
    deps->second.erase(id);
    if (deps->second.empty()) dependents_.erase(deps);
  }
  jobs_.erase(it);
}

JobRevision MakeRevision(const Job& job, const Job* previous, const std::string& author,
                         absl::Time now) {
  JobRevision rev;
  rev.job_id = job.id;
  rev.version = job.version;
  rev.author = author;
  rev.saved_at = now;
  const json def = JobDefinitionToJson(job);
  rev.definition_json = def.dump();
  if (previous) {
    const json old = JobDefinitionToJson(*previous);
    for (const auto& [key, value] : def.items()) {
      if (!old.contains(key) || old[key] != value) rev.changed_fields.push_back(key);
    }
  }
  return rev;
}

}  // namespace hera::core
