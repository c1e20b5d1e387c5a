#pragma once
// The master's copy of every run's log: one append-only file per run under a directory,
// written from worker reports and read by the API (offset reads, and live tails that watch
// for growth instead of blocking). Thread-safe.
//
// A log over the cap keeps its head and its tail: the middle is freed from the disk as the run
// writes (a hole punched in the file), so offsets stay those of the run's output and the file
// never needs rewriting; readers that reach the hole get a notice and jump past it.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"
#include "core/model.h"
#include "core/ports.h"
#include "master/disk_guard.h"
#include "common/log_masker.h"

namespace hera::master {

class LogStore final : public core::LogReader {
 public:
  // Logs live under `dir` (created if missing).
  static absl::StatusOr<std::unique_ptr<LogStore>> Open(const std::string& dir);

  // Marks run `run` as being written: tails watch it until CloseRun().
  void OpenRun(core::RunId run);
  // The run ended and all of its output was appended: tails may finish (its watches fire).
  void CloseRun(core::RunId run);
  // Writes `bytes` at `offset`. A chunk that was already stored (a worker re-sending after a
  // reconnect) is skipped; a gap after the end is an error; ResourceExhausted when the disk
  // is full (set_disk_guard).
  absl::Status Append(core::RunId run, int64_t offset, std::string_view bytes);
  // From now until CloseRun, each of `secrets` (run `run`'s decrypted secret values) is
  // replaced in its log by as many '*' (LogMasker): offsets are unchanged. A few bytes that
  // could start a secret are held back until the next chunk or CloseRun, so Size() and
  // readers may lag the worker by less than the longest secret; a worker that reconnects is
  // told Size() and re-sends the held bytes, which Append then takes once.
  void SetSecrets(core::RunId run, std::vector<std::string> secrets);

  absl::StatusOr<Chunk> Read(core::RunId run, int64_t offset, int64_t max_bytes) override;
  int64_t Size(core::RunId run) override;
  DataWatch WatchForData(core::RunId run, int64_t offset, std::function<void()> ready) override;
  void Unwatch(uint64_t id) override;

  // The file that holds run `run`'s log.
  std::string PathOf(core::RunId run) const;
  // Retention: deletes the log of finished run `run` and returns the disk space it took (0
  // when it had none). A log still open (its run is live) is kept: FailedPrecondition.
  absl::StatusOr<int64_t> Remove(core::RunId run);
  // From now on Append refuses (ResourceExhausted) while `guard` says the disk is full, and
  // tells it of writes that fail for lack of space. Call before logs are written.
  void set_disk_guard(DiskGuard* guard) { disk_ = guard; }
  // From now on a run's stored log keeps at most about `cap_bytes` (0: no cap): its first and
  // its last half, within a few blocks (the middle is dropped in steps of up to 1 MiB). Where
  // the file system cannot free part of a file, logs are kept whole and a warning is logged.
  // Call before logs are written.
  void set_cap_bytes(int64_t cap_bytes) { cap_bytes_ = cap_bytes; }

 private:
  explicit LogStore(std::string dir) : dir_(std::move(dir)) {}
  struct OpenLog {
    UniqueFd fd;  // opened lazily on the first append
    int64_t size = 0;
    int64_t block = 4096;          // the file system's block: only whole ones can be freed
    int64_t dropped_to = 0;        // bytes before this were freed as far as they go (the cap)
    bool cannot_drop = false;      // the file system refused to free part of the file
  };
  // Append() under mu_.
  absl::Status AppendLocked(core::RunId run, int64_t offset, std::string_view bytes);
  // Appends `bytes` to the file of `log` (opened on first use).
  absl::Status WriteLocked(core::RunId run, OpenLog& log, std::string_view bytes);
  // Frees the middle of `log` once it is over the cap.
  void DropMiddleLocked(core::RunId run, OpenLog& log);
  // Writes out and drops the held tail of run `run`'s masker, if it has one.
  void DropMaskerLocked(core::RunId run);
  // Removes the watches of run `run` that are due (all of them once it is closed) and returns
  // their callbacks, to be called once mu_ is released.
  std::vector<std::function<void()>> TakeDueWatchesLocked(core::RunId run);
  // A tail waiting for run `run`'s log to grow past `offset`.
  struct Watch {
    int64_t offset = 0;
    std::function<void()> ready;
  };

  const std::string dir_;
  DiskGuard* disk_ = nullptr;
  int64_t cap_bytes_ = 0;
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built for ThreadSanitizer.
  std::mutex mu_;
  std::map<core::RunId, OpenLog> open_;  // guarded by mu_
  std::map<core::RunId, LogMasker> maskers_;  // guarded by mu_: runs with secrets
  // Guarded by mu_: watches by (run, id), so a run's are found together and Unwatch finds one
  // through watch_runs_ (id → run).
  std::map<std::pair<core::RunId, uint64_t>, Watch> watches_;
  std::map<uint64_t, core::RunId> watch_runs_;
  uint64_t next_watch_id_ = 1;  // guarded by mu_
};

}  // namespace hera::master
