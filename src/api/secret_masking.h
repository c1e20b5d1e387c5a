#pragma once
// Every API response shows a secret.* config value as "******" (SEMANTICS.md §7): not even
// its encrypted form leaves the server. Saves that send "******" back keep the secret (see
// master/secret_sealer.h).

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/time/time.h"
#include "core/definition_diff.h"
#include "core/model.h"

namespace hera::api {

// core::JobToJson / GroupToJson / RevisionToJson with secret values masked.
nlohmann::json MaskedJobJson(const core::Job& job, const absl::TimeZone& tz);
nlohmann::json MaskedGroupJson(const core::Group& group, const absl::TimeZone& tz);
nlohmann::json MaskedRevisionJson(const core::JobRevision& rev, const absl::TimeZone& tz);

// Masks the secret values of `(*definition)["configs"]`, when it is an object.
void MaskDefinitionSecrets(nlohmann::json* definition);

// Masks secret values in a diff of stored definitions, computed before masking so that a
// changed secret is still listed (as "******" on both sides): leaves "configs.secret.*" and
// the secrets inside a whole "configs" object.
void MaskChangeSecrets(std::vector<core::FieldChange>* changes);

}  // namespace hera::api
