#pragma once
// Encrypts the secret.* values of a job or group save before the engine applies it, so that a
// secret reaches the catalog, the store and the revisions only in SecretBox's stored form.

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "master/secret_box.h"

namespace hera::master {

// `body` (a create or PATCH body) with each `configs` entry whose key is secret.* replaced by
// its stored form. `current` holds the configs saved now (null on a create). Per value:
//  - "******", the mask every API response shows: the saved value of that key is kept, so a
//    UI that sends back what it read does not wipe the secret; InvalidArgument when there is
//    no saved value to keep;
//  - the stored form under this server's key (a revision restore sends its definition back):
//    kept as is; InvalidArgument when it does not decrypt;
//  - anything else is a new plaintext and is sealed, except that a plaintext equal to the
//    saved one keeps the saved form (re-sealing would record a change that is none).
// InvalidArgument also for a secret key that cannot be exported (render::CheckSecretKey), and
// FailedPrecondition when `box` is null. A body without secrets comes back unchanged.
absl::StatusOr<nlohmann::json> SealSecretConfigs(const nlohmann::json& body,
                                                 const core::Configs* current,
                                                 const SecretBox* box);

}  // namespace hera::master
