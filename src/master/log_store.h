#pragma once
// The master's copy of every run's log: one append-only file per run under a directory,
// written from worker reports and read by the API (offset reads and live tails).
// Thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/unique_fd.h"
#include "core/model.h"
#include "core/ports.h"

namespace hera::master {

class LogStore final : public core::LogReader {
 public:
  // Logs live under `dir` (created if missing).
  static absl::StatusOr<std::unique_ptr<LogStore>> Open(const std::string& dir);

  // Marks run `run` as being written: tails wait for it until Close().
  void OpenRun(core::RunId run);
  // The run ended and all of its output was appended: tails may finish.
  void CloseRun(core::RunId run);
  // Writes `bytes` at `offset`. A chunk that was already stored (a worker re-sending after a
  // reconnect) is skipped; a gap after the end is an error.
  absl::Status Append(core::RunId run, int64_t offset, std::string_view bytes);

  absl::StatusOr<std::string> Read(core::RunId run, int64_t offset, int64_t max_bytes) override;
  int64_t Size(core::RunId run) override;
  bool WaitForData(core::RunId run, int64_t offset, absl::Duration timeout) override;

  // The file that holds run `run`'s log.
  std::string PathOf(core::RunId run) const;

 private:
  explicit LogStore(std::string dir) : dir_(std::move(dir)) {}
  struct OpenLog {
    UniqueFd fd;  // opened lazily on the first append
    int64_t size = 0;
  };

  const std::string dir_;
  mutable absl::Mutex mu_;
  std::map<core::RunId, OpenLog> open_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped on every change, for waiters
};

}  // namespace hera::master
