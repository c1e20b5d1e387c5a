#pragma once
// The process's limit on open file descriptors (RLIMIT_NOFILE): every HTTP connection, log file
// and job pipe takes one.

#include <cstdint>

namespace hera {

// Raises the soft limit on open files to the hard limit. Returns the soft limit in effect
// afterwards (-1 for no limit); on failure the limit is unchanged.
int64_t RaiseOpenFileLimit();

}  // namespace hera
