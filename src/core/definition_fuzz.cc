// libFuzzer target for what a request body becomes: the bounded JSON parser, then a job and a
// group definition validated as a save would (Catalog::PrepareNewJob / PrepareNewGroup over a
// catalog holding one group and one job). Invariants, each aborting when broken: an error
// has a message; an accepted job survives its stored form unchanged (JobDefinitionToJson →
// text → ParseJsonText → PrepareNewJob gives the same definition), as a restart reads it back.
//
// With -DHERA_FUZZ=ON this is the definition_fuzz executable, run from the seeds in
// tests/fuzz/corpus/definition.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "common/json_text.h"
#include "core/catalog.h"
#include "core/json_codec.h"

namespace {

using nlohmann::json;

[[noreturn]] void Fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "definition fuzz invariant broken: %s for '%.*s'\n", what,
               static_cast<int>(std::min<size_t>(input.size(), 400)), input.data());
  std::abort();
}

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

// A catalog with group 1 ("etl") and job 1 ("upstream", enabled, daily).
const hera::core::Catalog& Seeded() {
  static const auto* catalog = [] {
    auto* c = new hera::core::Catalog();
    auto group = c->PrepareNewGroup(1, json{{"name", "etl"}}, "fuzz", kNow);
    if (!group.ok()) std::abort();
    c->PutGroup(*group);
    auto job = c->PrepareNewJob(
        1, json{{"name", "upstream"}, {"group_id", 1}, {"script", "true"}, {"enabled", true},
                {"schedule", {{"cron", "0 0 1 * * ?"}}}},
        "fuzz", kNow);
    if (!job.ok()) std::abort();
    c->PutJob(*job);
    return c;
  }();
  return *catalog;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<json> body = hera::ParseJsonText(text);
  if (!body.ok()) {
    if (body.status().message().empty()) Fail("empty parse error", text);
    return 0;
  }
  const hera::core::Catalog& catalog = Seeded();
  const auto group = catalog.PrepareNewGroup(2, *body, "fuzz", kNow);
  if (!group.ok() && group.status().message().empty()) Fail("empty group error", text);

  const auto job = catalog.PrepareNewJob(2, *body, "fuzz", kNow);
  if (!job.ok()) {
    if (job.status().message().empty()) Fail("empty job error", text);
    return 0;
  }
  const json stored = hera::core::JobDefinitionToJson(*job);
  const absl::StatusOr<json> reread = hera::ParseJsonText(stored.dump());
  if (!reread.ok()) Fail("a stored definition does not parse", text);
  const auto again = catalog.PrepareNewJob(2, *reread, "fuzz", kNow);
  if (!again.ok()) Fail("a stored definition is refused when read back", text);
  if (hera::core::JobDefinitionToJson(*again) != stored) {
    Fail("a stored definition changes when read back", text);
  }
  return 0;
}
