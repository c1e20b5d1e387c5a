#pragma once
// The worker's few one-line state files (worker_id, term): read whole, replaced atomically.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hera::worker {

// The contents of `path`; nullopt if it does not exist, else the failing call with the path.
absl::StatusOr<std::optional<std::string>> ReadSmallFile(const std::string& path);

// Replaces `path` with `contents` so that a crash leaves either the old or the new file, never
// a torn one: write a temporary file, fsync it, rename it over `path`, fsync the directory.
// Returns the failing call with the path.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace hera::worker
