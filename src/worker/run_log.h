#pragma once
// Where a run lives on the worker and how its log file is read back, e.g. to re-send the bytes
// a master missed while it was away (proto Registered.master_log_bytes).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace hera::worker {

// <data_dir>/work/<run_id>: the run's working directory, which holds its output.log.
std::string WorkDirOf(const std::string& data_dir, int64_t run_id);

// Size of <work_dir>/output.log; 0 if it does not exist (the run printed nothing yet).
int64_t LogSize(const std::string& work_dir);

// Up to `max_bytes` of <work_dir>/output.log from `offset` (fewer at its end; empty past it).
// NotFound if the file is missing, else the failing call with the path.
absl::StatusOr<std::string> ReadLog(const std::string& work_dir, int64_t offset,
                                    int64_t max_bytes);

}  // namespace hera::worker
