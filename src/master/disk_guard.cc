#include "master/disk_guard.h"

#include <sys/statvfs.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace hera::master {
namespace {

std::string Mib(int64_t bytes) { return absl::StrCat(bytes >> 20, " MiB"); }

// The disk counts as full this close to the reserve already: TakeRoom stops a log a chunk short
// of the reserve, and the refusals and /healthz must say so then, not only once the reserve is
// breached.
constexpr int64_t kNearReserve = 4 << 20;

}  // namespace

bool IsDiskFull(const absl::Status& status) {
  // SQLITE_FULL (store/sqlite), ENOSPC and EDQUOT (absl::ErrnoToStatus) all come as this code.
  return status.code() == absl::StatusCode::kResourceExhausted;
}

absl::StatusOr<int64_t> DiskGuard::StatvfsFreeBytes(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) < 0) return absl::ErrnoToStatus(errno, "statvfs " + path);
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

DiskGuard::DiskGuard(DiskGuardOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock) {}

void DiskGuard::RefreshLocked() {
  const absl::Time now = clock_->Now();
  if (now - checked_at_ < options_.recheck) return;
  checked_at_ = now;
  auto free = options_.free_bytes ? options_.free_bytes(options_.path)
                                  : StatvfsFreeBytes(options_.path);
  if (!free.ok()) return;  // keep the last reading: a failed statvfs says nothing of the space
  free_ = *free;
  taken_ = 0;
  // Space came back since a write failed: the failure no longer counts.
  if (free_ >= options_.reserve_bytes + kNearReserve && now - failed_at_ >= options_.recheck) {
    write_failed_ = false;
  }
  const bool full = write_failed_ || free_ < options_.reserve_bytes + kNearReserve;
  if (full != reported_) {
    reported_ = full;
    if (full) {
      spdlog::error("the disk is full: {}; requests that change state are refused (507) and "
                    "run logs are not stored until there is room",
                    absl::StrCat(Mib(free_), " free of the ", Mib(options_.reserve_bytes),
                                 " kept in reserve on the disk of ", options_.path));
    } else {
      spdlog::info("the disk has room again ({} free): back to normal", Mib(free_));
    }
  }
}

bool DiskGuard::Full() {
  std::lock_guard lock(mu_);
  RefreshLocked();
  return write_failed_ || free_ - taken_ < options_.reserve_bytes + kNearReserve;
}

std::string DiskGuard::Why() {
  std::lock_guard lock(mu_);
  RefreshLocked();
  if (!write_failed_ && free_ - taken_ >= options_.reserve_bytes + kNearReserve) return "";
  return absl::StrCat("the disk of the data directory ", options_.path, " is full (",
                      Mib(free_ == INT64_MAX ? 0 : free_ - taken_), " free; Hera keeps ",
                      Mib(options_.reserve_bytes), " in reserve): nothing was changed; free some "
                      "space and try again");
}

bool DiskGuard::OnWriteFailure(const absl::Status& status) {
  if (!IsDiskFull(status)) return false;
  std::lock_guard lock(mu_);
  write_failed_ = true;
  failed_at_ = clock_->Now();
  if (!reported_) {
    reported_ = true;
    spdlog::error("the disk is full: a write failed ({}); requests that change state are "
                  "refused (507) until there is room",
                  status.ToString());
  }
  return true;
}

bool DiskGuard::TakeRoom(int64_t bytes) {
  std::lock_guard lock(mu_);
  RefreshLocked();
  if (write_failed_ || free_ == INT64_MAX) return !write_failed_;  // no reading: let it be
  if (free_ - taken_ - bytes < options_.reserve_bytes) return false;
  taken_ += bytes;
  return true;
}

void DiskGuard::OnWriteOk() {
  if (!write_failed_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(mu_);
  write_failed_ = false;
}

}  // namespace hera::master
