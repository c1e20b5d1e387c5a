#pragma once
// Watches the free space of the file system holding the data directory, so that a full disk
// is met early and clearly (DESIGN.md §10): below a reserve, requests that would change state
// are refused with 507 and logs stop growing, which leaves the store the room it needs to
// finish what was accepted; a write that failed for lack of space counts as full too.
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace hera::master {

struct DiskGuardOptions {
  std::string path;                         // the data directory
  // Logs stop short of this much free space; the disk counts as full 4 MiB above it already.
  int64_t reserve_bytes = 256LL << 20;
  absl::Duration recheck = absl::Seconds(1);  // free space is read at most this often
  // How free space is read (statvfs by default); tests give a fake.
  std::function<absl::StatusOr<int64_t>(const std::string& path)> free_bytes;
};

class DiskGuard {
 public:
  // `clock` must outlive the guard.
  DiskGuard(DiskGuardOptions options, const Clock* clock);

  // True while the disk is below its reserve, or since a write failed for lack of space, until
  // a later write succeeds or a reading a while after the failure shows room again (a full
  // quota or inode table can fail writes while statvfs shows free bytes).
  bool Full();
  // Why the disk counts as full, for the 507 and the log ("the disk of /data has 3 MiB free,
  // less than the 256 MiB Hera keeps in reserve"); empty when it does not.
  std::string Why();
  // `status` came from a write: if it failed for lack of space, the disk is full from now on.
  // Returns whether it was such a failure.
  bool OnWriteFailure(const absl::Status& status);
  // A write succeeded: a past failure for lack of space no longer counts. Cheap when there
  // was none.
  void OnWriteOk();
  // Asks for `bytes` of the disk for a write that can be refused (a run's log): false, and
  // nothing taken, when they would eat into the reserve. Space taken this way counts until the
  // next reading, so a fast writer cannot fill the disk between two readings.
  bool TakeRoom(int64_t bytes);

  // Free bytes on the disk of `path`, by statvfs (for unprivileged users).
  static absl::StatusOr<int64_t> StatvfsFreeBytes(const std::string& path);

 private:
  void RefreshLocked();

  const DiskGuardOptions options_;
  const Clock* const clock_;
  std::mutex mu_;
  absl::Time checked_at_ = absl::InfinitePast();  // guarded by mu_
  int64_t free_ = INT64_MAX;                        // guarded by mu_
  int64_t taken_ = 0;  // guarded by mu_: bytes TakeRoom gave since free_ was read
  std::atomic<bool> write_failed_{false};           // set and cleared under mu_
  absl::Time failed_at_ = absl::InfinitePast();     // guarded by mu_
  bool reported_ = false;                           // guarded by mu_: logged as full
};

// True if `status`, from a write, says it failed because the disk (or the database on it) is
// full: ResourceExhausted, which the store and absl::ErrnoToStatus use for that.
bool IsDiskFull(const absl::Status& status);

}  // namespace hera::master
