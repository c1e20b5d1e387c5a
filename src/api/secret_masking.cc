#include "api/secret_masking.h"

#include <string>

#include "common/strings.h"
#include "core/json_codec.h"
#include "render/secret_keys.h"

namespace hera::api {
namespace {

using nlohmann::json;

void MaskConfigs(json* configs) {
  if (!configs->is_object()) return;
  for (auto& [key, value] : configs->items()) {
    if (render::IsSecretKey(key)) value = std::string(render::kSecretMask);
  }
}

// A diff side: null stays null (the field is absent there).
void MaskSide(json* side) {
  if (!side->is_null()) *side = std::string(render::kSecretMask);
}

}  // namespace

void MaskDefinitionSecrets(json* definition) {
  if (definition->is_object() && definition->contains("configs")) {
    MaskConfigs(&(*definition)["configs"]);
  }
}

json MaskedJobJson(const core::Job& job, const absl::TimeZone& tz) {
  json j = core::JobToJson(job, tz);
  MaskDefinitionSecrets(&j);
  return j;
}

json MaskedGroupJson(const core::Group& group, const absl::TimeZone& tz) {
  json j = core::GroupToJson(group, tz);
  MaskDefinitionSecrets(&j);
  return j;
}

json MaskedRevisionJson(const core::JobRevision& rev, const absl::TimeZone& tz) {
  json j = core::RevisionToJson(rev, tz);
  if (j.contains("definition")) MaskDefinitionSecrets(&j["definition"]);
  return j;
}

void MaskChangeSecrets(std::vector<core::FieldChange>* changes) {
  static const std::string kPrefix = std::string("configs.") + std::string(render::kSecretPrefix);
  for (core::FieldChange& c : *changes) {
    if (c.field == "configs") {
      MaskConfigs(&c.before);
      MaskConfigs(&c.after);
    } else if (c.field.rfind(kPrefix, 0) == 0) {
      MaskSide(&c.before);
      MaskSide(&c.after);
    }
  }
}

}  // namespace hera::api
