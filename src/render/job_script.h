#pragma once
// One run's script as both the dispatch and the preview render it: the job's effective configs
// without the secrets (they go to the environment, never into the text), at the action's
// scheduled time in the job's zone. Pure.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "render/effective_configs.h"
#include "render/script_renderer.h"

namespace hera::render {

struct JobScript {
  RenderedScript rendered;
  // (environment variable, config key) of each effective secret, by variable name.
  std::vector<std::pair<std::string, std::string>> secrets;
};

// Renders `script` with `configs` (see MergeConfigs) at `scheduled_time` in `zone`.
// InvalidArgument "could not render the script: <what Render said, quoting the macro>", or
// naming a secret whose key cannot be exported or two secrets exported under one name.
absl::StatusOr<JobScript> RenderJobScript(std::string_view script, const EffectiveConfigs& configs,
                                          absl::Time scheduled_time, absl::TimeZone zone);

}  // namespace hera::render
