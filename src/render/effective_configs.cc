#include "render/effective_configs.h"

#include "absl/strings/str_cat.h"

namespace hera::render {

EffectiveConfigs MergeConfigs(const ConfigMap& job, const std::vector<GroupConfigs>& groups) {
  EffectiveConfigs out;
  for (const auto& [key, value] : job) out.emplace(key, EffectiveConfig{value, "job"});
  for (const GroupConfigs& g : groups) {
    const std::string source = absl::StrCat("group:", g.group_id);
    // emplace keeps an existing key: a nearer level already set it.
    for (const auto& [key, value] : g.configs) out.emplace(key, EffectiveConfig{value, source});
  }
  return out;
}

ConfigMap ConfigValues(const EffectiveConfigs& configs) {
  ConfigMap out;
  for (const auto& [key, c] : configs) out.emplace_hint(out.end(), key, c.value);
  return out;
}

}  // namespace hera::render
