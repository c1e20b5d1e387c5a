#pragma once
// Renders a job's script the way Hera does before a run (SEMANTICS.md §7), in Hera's order:
//  1. `download[uri name]` lines come out of the script and become downloads;
//  2. `${key}` references take the job's effective configs, recursively;
//  3. `${zdt....}` date macros are evaluated at the scheduled time in the job's zone;
//  4. `${yesterday}` becomes the day before the scheduled time, as yyyyMMdd.
// Pure: no IO, clock or threads; the caller fetches the downloads.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "render/downloads.h"

namespace hera::render {

struct RenderContext {
  // Effective configs (job, then nearest group up to the root, already merged: see
  // MergeConfigs). Secrets are the caller's choice: Hera substituted decrypted secret.* values.
  const std::map<std::string, std::string>& configs;
  absl::Time scheduled_time;  // the action's scheduled time; a debug run passes now
  absl::TimeZone zone;        // the job's zone
};

struct RenderedScript {
  std::string text;
  std::vector<Download> downloads;
};

// The script as it will run. InvalidArgument names what is wrong and where: a bad download
// line ("line 2: download name \"../x\" ..."), a config cycle ("config reference cycle:
// a -> b -> a"), or a macro that does not parse or evaluate ("line 5: ${zdt.addDays(-1)...}:
// addDays(-1): unknown zdt method ..."); OutOfRange when a macro's date leaves the years
// 1900-9999. Hera logged most of these and ran the script unrendered, or failed with a bare
// exception.
absl::StatusOr<RenderedScript> Render(std::string_view script, const RenderContext& ctx);

// Step 3 alone: `text` with each `${zdt...}` macro replaced by its value at `t` in `tz`.
absl::StatusOr<std::string> EvaluateZdtMacros(std::string_view text, absl::Time t,
                                              const absl::TimeZone& tz);

}  // namespace hera::render
