#include "master/secret_sealer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "render/secret_keys.h"

namespace hera::master {
namespace {

// The stored form `value` of secret `key` should be saved as.
absl::StatusOr<std::string> SealOne(const std::string& key, const std::string& value,
                                    const core::Configs* current, const SecretBox& box) {
  const std::string* saved = nullptr;
  if (current) {
    auto it = current->find(key);
    if (it != current->end()) saved = &it->second;
  }
  if (value == render::kSecretMask) {
    if (!saved) {
      return absl::InvalidArgumentError(
          absl::StrCat("field 'configs.", key, "': \"", AsAbsl(render::kSecretMask),
                       "\" stands for a saved secret, and this one has none; send its value"));
    }
    return *saved;
  }
  if (SecretBox::LooksSealed(value)) {
    if (auto opened = box.Open(value); !opened.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field 'configs.", key, "': ", opened.status().message()));
    }
    return value;
  }
  if (saved && SecretBox::LooksSealed(*saved)) {
    auto opened = box.Open(*saved);
    if (opened.ok() && *opened == value) return *saved;
  }
  return box.Seal(value);
}

}  // namespace

absl::StatusOr<nlohmann::json> SealSecretConfigs(const nlohmann::json& body,
                                                 const core::Configs* current,
                                                 const SecretBox* box) {
  if (!body.is_object()) return body;
  auto configs = body.find("configs");
  // Wrong shapes are left for the JSON decoder, whose errors name the field.
  if (configs == body.end() || !configs->is_object()) return body;
  nlohmann::json out = body;
  for (auto& [key, value] : out["configs"].items()) {
    if (!render::IsSecretKey(key) || !value.is_string()) continue;
    if (auto st = render::CheckSecretKey(key); !st.ok()) return st;
    if (!box) {
      return absl::FailedPreconditionError(absl::StrCat(
          "field 'configs.", key, "': this server has no secret key to encrypt secrets with"));
    }
    auto sealed = SealOne(key, value.get<std::string>(), current, *box);
    if (!sealed.ok()) return sealed.status();
    value = *std::move(sealed);
  }
  return out;
}

}  // namespace hera::master
