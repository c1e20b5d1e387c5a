#include "master/definition_check.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/ports.h"
#include "master/run_preparer.h"
#include "render/config_expander.h"
#include "render/effective_configs.h"
#include "render/script_renderer.h"
#include "render/secret_keys.h"

namespace hera::master {

absl::Status CheckJobRenders(const core::Job& job, const core::Catalog& catalog, absl::Time now,
                             const absl::TimeZone& server_zone, const SecretBox* box,
                             const CommandPolicy* commands) {
  core::DispatchOrder order;
  order.job_id = job.id;
  order.type = job.type;
  order.script = job.script;
  order.host_group = job.host_group;
  order.configs = job.configs;
  order.timezone = catalog.ZoneOf(job).name;
  order.scheduled_time = now;
  absl::StatusOr<std::vector<std::string>> prepared =
      PrepareRunInGroup(catalog, job.group_id, box, server_zone, commands, &order);
  if (prepared.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the job would fail when it runs: ", prepared.status().message()));
}

absl::Status CheckGroupConfigs(const core::Group& group, const core::Catalog& catalog,
                               absl::Time now, const absl::TimeZone& server_zone) {
  std::vector<render::GroupConfigs> chain = {{group.id, group.configs}};
  std::set<core::GroupId> seen = {group.id};
  for (const core::Group* g = group.parent_id ? catalog.FindGroup(*group.parent_id) : nullptr;
       g && seen.insert(g->id).second;
       g = g->parent_id ? catalog.FindGroup(*g->parent_id) : nullptr) {
    chain.push_back({g->id, g->configs});
  }
  const core::Configs none;
  const render::ConfigMap values = render::ConfigValues(render::MergeConfigs(none, chain));
  for (const auto& [key, value] : values) {
    if (render::IsSecretKey(key)) continue;  // exported as they are, never expanded
    absl::StatusOr<std::string> expanded = render::ExpandConfigs(absl::StrCat("${", key, "}"),
                                                                 values);
    if (expanded.ok()) {
      expanded = render::EvaluateZdtMacros(*expanded, now, server_zone);
    }
    if (!expanded.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("field 'configs': config '", key, "': ",
                                                     expanded.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace hera::master
