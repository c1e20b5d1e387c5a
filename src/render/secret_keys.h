#pragma once
// Config keys `secret.*` (SEMANTICS.md §7): stored encrypted, never rendered into a script,
// exported to the run as environment variables, and shown as "******" everywhere else.

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace hera::render {

inline constexpr std::string_view kSecretPrefix = "secret.";
// What the API, the UI and the stored logs show in place of a secret value.
inline constexpr std::string_view kSecretMask = "******";

// True for "secret.<anything>" (case-sensitive, as config keys are).
bool IsSecretKey(std::string_view key);

// The environment variable secret `key` is exported as: the part after "secret.", upper-cased,
// each byte other than [A-Za-z0-9] replaced by '_' (secret.db_password -> DB_PASSWORD,
// secret.api-key -> API_KEY).
std::string SecretEnvName(std::string_view key);

// OK when secret `key` exports a usable variable. InvalidArgument naming the key otherwise:
// nothing after "secret.", a name starting with a digit (not a shell variable), or one starting
// with HERA_ (reserved for the variables every run gets).
absl::Status CheckSecretKey(std::string_view key);

}  // namespace hera::render
