#include "render/secret_keys.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera::render {

bool IsSecretKey(std::string_view key) {
  return absl::StartsWith(AsAbsl(key), AsAbsl(kSecretPrefix));
}

std::string SecretEnvName(std::string_view key) {
  std::string name(key.substr(IsSecretKey(key) ? kSecretPrefix.size() : 0));
  for (char& c : name) c = absl::ascii_isalnum(c) ? absl::ascii_toupper(c) : '_';
  return name;
}

absl::Status CheckSecretKey(std::string_view key) {
  const std::string name = SecretEnvName(key);
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config '", AsAbsl(key), "': a secret needs a name after 'secret.'"));
  }
  if (absl::ascii_isdigit(name[0])) {
    return absl::InvalidArgumentError(
        absl::StrCat("config '", AsAbsl(key), "': exported as $", name,
                     ", which is not a valid variable name (it starts with a digit)"));
  }
  if (absl::StartsWith(name, "HERA_")) {
    return absl::InvalidArgumentError(
        absl::StrCat("config '", AsAbsl(key), "': exported as $", name,
                     "; names starting with HERA_ are reserved for the variables every run gets"));
  }
  return absl::OkStatus();
}

}  // namespace hera::render
