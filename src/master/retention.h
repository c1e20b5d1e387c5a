#pragma once
// Retention (DESIGN.md §5): the history that would otherwise fill the disk goes once it is
// older than a configurable age — finished runs with their logs and work directories, and
// every resource version but the latest of each name. Never a run that is not finished. What
// each pass purged goes to the server log. Runs a pass in the background at start and then
// periodically.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "core/store.h"
#include "master/log_store.h"
#include "master/resource_store.h"

namespace hera::master {

struct RetentionOptions {
  absl::Duration keep = absl::Hours(24 * 30);  // history younger than this stays
  absl::Duration every = absl::Hours(1);       // between passes
  absl::Duration first_after = absl::Minutes(1);  // the first pass, after the start
  // The in-process worker's work directories (<dir>/<run>); empty: none here.
  std::string work_dir;
};

// What one pass removed.
struct Purged {
  int64_t runs = 0;
  int64_t log_bytes = 0;  // disk space their logs took
  int64_t work_dirs = 0;
  int64_t resource_versions = 0;
};

class Retention {
 public:
  // `store`, `logs`, `clock` and `resources` (may be null) must outlive it.
  Retention(RetentionOptions options, core::Store* store, LogStore* logs,
            ResourceStore* resources, const Clock* clock);
  ~Retention();
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // One pass: removes what ended (runs) or was uploaded (resource versions) before
  // now - keep. Stops at the first error, keeping what it removed so far.
  absl::StatusOr<Purged> PurgeOnce();
  // Passes in the background: first_after the start, then every `every`.
  void Start();
  void Stop();

 private:
  void Loop();

  const RetentionOptions options_;
  core::Store* const store_;
  LogStore* const logs_;
  ResourceStore* const resources_;
  const Clock* const clock_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace hera::master
