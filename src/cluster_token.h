#pragma once
// The cluster token file shared by `hera server` and `hera worker`: both read it the same way,
// so the same file always yields the same token on both sides.

#include <string>

#include "absl/status/statusor.h"

namespace hera {

// The token in file `path`, without surrounding whitespace. An error names the file when the
// path is empty, the file cannot be read, or it holds nothing but whitespace.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace hera
