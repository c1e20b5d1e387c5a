#include "render/job_script.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "render/secret_keys.h"

namespace hera::render {

absl::StatusOr<JobScript> RenderJobScript(std::string_view script, const EffectiveConfigs& configs,
                                          absl::Time scheduled_time, absl::TimeZone zone) {
  JobScript out;
  ConfigMap plain;
  std::map<std::string, std::string> key_of_env;
  for (const auto& [key, config] : configs) {
    if (!IsSecretKey(key)) {
      plain.emplace(key, config.value);
      continue;
    }
    if (auto st = CheckSecretKey(key); !st.ok()) return st;
    const std::string env = SecretEnvName(key);
    auto [it, added] = key_of_env.emplace(env, key);
    if (!added) {
      // Keys differ only in punctuation or case ("secret.a-b", "secret.a_b"): one variable
      // cannot carry both, and picking one silently would run with the wrong value.
      return absl::InvalidArgumentError(
          absl::StrCat("configs '", it->second, "' and '", key, "' are both exported as $", env));
    }
  }
  for (const auto& [env, key] : key_of_env) out.secrets.emplace_back(env, key);
  const RenderContext ctx{plain, scheduled_time, zone};
  auto rendered = Render(script, ctx);
  if (!rendered.ok()) {
    // Out-of-range dates are the script's fault as much as a bad macro: one code for both.
    return absl::InvalidArgumentError(
        absl::StrCat("could not render the script: ", rendered.status().message()));
  }
  out.rendered = *std::move(rendered);
  return out;
}

}  // namespace hera::render
