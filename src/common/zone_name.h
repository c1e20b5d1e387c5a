#pragma once
// Time zones named by users (a job's zone, a CLI flag): IANA names only, never paths.

#include <string_view>

#include "absl/time/time.h"

namespace hera {

// Loads the zone called `name` ("Asia/Shanghai", "UTC", "Etc/GMT+8") into `*tz`. False for
// anything that is not an IANA zone name — a path ("../../etc/localtime", "/usr/share/..."),
// a name the zone database does not have, an empty name — without touching the file system
// for names that could not be one.
bool LoadIanaZone(std::string_view name, absl::TimeZone* tz);

}  // namespace hera
