#pragma once
// The highest master term a worker has accepted orders from (DESIGN §2 "Fencing"), kept in a
// file so that a restarted worker still refuses a deposed master.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace hera::worker {

// Not thread-safe: the agent's connection thread owns it.
class TermFile {
 public:
  // Reads `path` (a decimal number); a missing file is term 0. InvalidArgument if the file
  // holds anything else, or the read error.
  static absl::StatusOr<TermFile> Open(std::string path);

  uint64_t max_term() const { return max_term_; }
  // Raises the stored term to `term` (atomically replacing the file); OK and no write if `term`
  // is not higher. On a write error the term is not raised.
  absl::Status Raise(uint64_t term);

 private:
  TermFile(std::string path, uint64_t max_term) : path_(std::move(path)), max_term_(max_term) {}

  std::string path_;
  uint64_t max_term_ = 0;
};

}  // namespace hera::worker
