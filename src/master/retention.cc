#include "master/retention.h"

#include <filesystem>
#include <system_error>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "common/time_format.h"

namespace hera::master {
namespace {

// Runs deleted per store transaction: short transactions, so the engine's commits are never
// held up long behind a purge.
constexpr int64_t kRunsPerBatch = 500;

}  // namespace

Retention::Retention(RetentionOptions options, core::Store* store, LogStore* logs,
                     ResourceStore* resources, const Clock* clock)
    : options_(std::move(options)),
      store_(store),
      logs_(logs),
      resources_(resources),
      clock_(clock) {}

Retention::~Retention() { Stop(); }

absl::StatusOr<Purged> Retention::PurgeOnce() {
  Purged purged;
  const absl::Time cutoff = clock_->Now() - options_.keep;
  for (;;) {
    absl::StatusOr<std::vector<core::RunId>> runs =
        store_->ListRunsEndedBefore(cutoff, kRunsPerBatch);
    if (!runs.ok()) return runs.status();
    if (runs->empty()) break;
    // Files first, rows last: a crash in between leaves rows without logs (shown empty), never
    // files nothing refers to.
    for (core::RunId run : *runs) {
      absl::StatusOr<int64_t> bytes = logs_->Remove(run);
      if (!bytes.ok()) return bytes.status();
      purged.log_bytes += *bytes;
      if (!options_.work_dir.empty()) {
        std::error_code ec;
        if (std::filesystem::remove_all(absl::StrCat(options_.work_dir, "/", run), ec) > 0) {
          ++purged.work_dirs;
        }
      }
    }
    if (absl::Status st = store_->DeleteFinishedRuns(*runs); !st.ok()) return st;
    purged.runs += static_cast<int64_t>(runs->size());
    if (static_cast<int64_t>(runs->size()) < kRunsPerBatch) break;
  }
  if (resources_) {
    absl::StatusOr<int64_t> versions = resources_->PurgeVersionsBefore(cutoff);
    if (!versions.ok()) return versions.status();
    purged.resource_versions = *versions;
  }
  if (purged.runs > 0 || purged.resource_versions > 0) {
    spdlog::info("retention: purged {} runs (their logs: {} MiB; {} work directories) and {} "
                 "old resource versions from before {}",
                 purged.runs, purged.log_bytes >> 20, purged.work_dirs, purged.resource_versions,
                 FormatIsoTime(cutoff));
  }
  return purged;
}

void Retention::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Retention::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::Loop() {
  NameCurrentThread("hera-retention");
  absl::Duration wait = options_.first_after;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, absl::ToChronoNanoseconds(wait), [this] { return stopping_; });
      if (stopping_) return;
    }
    if (absl::StatusOr<Purged> done = PurgeOnce(); !done.ok()) {
      spdlog::warn("retention: pass stopped: {}", done.status().ToString());
    }
    wait = options_.every;
  }
}

}  // namespace hera::master
