#pragma once
// A job's effective configs: its own, then each enclosing group's, nearest first (Hera's
// HierarchyProperties.getAllProperties: a lower level overrides a higher one). Feeds both
// rendering and GET /api/v1/jobs/{id}/configs/effective.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hera::render {

using ConfigMap = std::map<std::string, std::string>;

// One enclosing group's own configs. `configs` must outlive the call.
struct GroupConfigs {
  int64_t group_id = 0;
  const ConfigMap& configs;
};

// A key's winning value and where it was set: "job" or "group:<id>".
struct EffectiveConfig {
  std::string value;
  std::string source;

  bool operator==(const EffectiveConfig&) const = default;
};

using EffectiveConfigs = std::map<std::string, EffectiveConfig>;

// Merges `job` with `groups`, ordered from the job's own group up to the root; for each key
// the first level that sets it wins.
EffectiveConfigs MergeConfigs(const ConfigMap& job, const std::vector<GroupConfigs>& groups);

// Just the values, as RenderContext::configs wants them.
ConfigMap ConfigValues(const EffectiveConfigs& configs);

}  // namespace hera::render
