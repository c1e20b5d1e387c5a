#include "master/run_preparer.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "render/effective_configs.h"
#include "render/job_script.h"
#include "render/secret_keys.h"

namespace hera::master {
namespace {

// The configs of `group` and its ancestors, nearest first. A parent loop (which the catalog
// refuses to create) ends the walk instead of hanging the engine.
std::vector<render::GroupConfigs> GroupChain(const core::Catalog& catalog, core::GroupId group) {
  std::vector<render::GroupConfigs> chain;
  std::set<core::GroupId> seen;
  for (const core::Group* g = catalog.FindGroup(group); g && seen.insert(g->id).second;
       g = g->parent_id ? catalog.FindGroup(*g->parent_id) : nullptr) {
    chain.push_back({g->id, g->configs});
  }
  return chain;
}

// The plaintext of secret `key`; values saved before secrets were encrypted are plain.
absl::StatusOr<std::string> Reveal(const std::string& key, const render::EffectiveConfig& config,
                                   const SecretBox* box) {
  if (!SecretBox::LooksSealed(config.value)) return config.value;
  if (!box) {
    return absl::FailedPreconditionError(
        absl::StrCat("config '", key, "' is encrypted and this server has no secret key"));
  }
  auto plain = box->Open(config.value);
  if (!plain.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("could not decrypt config '", key, "' (set in ",
                                                   config.source, "): ", plain.status().message()));
  }
  return plain;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> PrepareRun(const core::Catalog& catalog,
                                                    const SecretBox* box,
                                                    const absl::TimeZone& server_zone,
                                                    const CommandPolicy* commands,
                                                    core::DispatchOrder* order) {
  const core::Job* job = catalog.FindJob(order->job_id);
  return PrepareRunInGroup(catalog, job ? job->group_id : 0, box, server_zone, commands, order);
}

absl::StatusOr<std::vector<std::string>> PrepareRunInGroup(const core::Catalog& catalog,
                                                           core::GroupId group_id,
                                                           const SecretBox* box,
                                                           const absl::TimeZone& server_zone,
                                                           const CommandPolicy* commands,
                                                           core::DispatchOrder* order) {
  absl::TimeZone zone = server_zone;
  if (!order->timezone.empty() && !absl::LoadTimeZone(order->timezone, &zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the job's time zone '", order->timezone, "' is unknown to this server"));
  }
  const std::vector<render::GroupConfigs> groups = GroupChain(catalog, group_id);
  const render::EffectiveConfigs effective = render::MergeConfigs(order->configs, groups);
  auto script = render::RenderJobScript(order->script, effective, order->scheduled_time, zone);
  if (!script.ok()) return script.status();

  std::vector<std::pair<std::string, std::string>> env = order->env;
  std::vector<std::string> values;
  for (const auto& [name, key] : script->secrets) {
    auto plain = Reveal(key, effective.at(key), box);
    if (!plain.ok()) return plain.status();
    if (!plain->empty()) values.push_back(*plain);
    env.emplace_back(name, *std::move(plain));
  }

  core::Configs configs;
  for (const auto& [key, config] : effective) {
    if (!render::IsSecretKey(key)) configs.emplace(key, config.value);
  }
  std::optional<RunCommand> command;
  if (commands) {
    std::vector<std::string> env_names;
    for (const auto& [name, value] : env) env_names.push_back(name);
    auto built = BuildRunCommand(*commands, order->type, order->host_group, configs, env_names);
    if (!built.ok()) return built.status();
    command = *std::move(built);
  }

  order->script = std::move(script->rendered.text);
  order->downloads.clear();
  for (auto& d : script->rendered.downloads) {
    order->downloads.emplace_back(std::move(d.uri), std::move(d.name));
  }
  order->env = std::move(env);
  order->configs = std::move(configs);
  if (command) {
    order->argv = std::move(command->argv);
    order->script_name = std::move(command->script_name);
  }
  return values;
}

}  // namespace hera::master
