#pragma once
// Writing whole buffers to file descriptors, retrying short writes and EINTR.

#include <string_view>

#include "absl/status/status.h"

namespace hera {

// Writes all of `data` to `fd`; the errno of a failed write as a Status ("write: ...").
absl::Status WriteAll(int fd, std::string_view data);

}  // namespace hera
