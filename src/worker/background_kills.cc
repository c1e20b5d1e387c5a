#include "worker/background_kills.h"

#include <spdlog/spdlog.h>

#include "common/mutex_lock.h"

namespace hera::worker {

void BackgroundKills::Launch(int64_t run_id, std::vector<std::string> ids) {
  if (ids.empty()) return;
  MutexLock lock(&mu_);
  ReapLocked();
  auto done = std::make_shared<bool>(false);
  std::thread thread([this, run_id, ids = std::move(ids), done] {
    const absl::Time deadline = absl::Now() + deadline_;
    for (const exec::ExternalKillResult& r : exec::KillExternalJobs(ids, commands_, deadline)) {
      if (r.status.ok()) {
        spdlog::info("run {}: killed external job {}", run_id, r.id);
      } else {
        spdlog::warn("run {}: could not kill external job {}: {}", run_id, r.id,
                     r.status.ToString());
      }
    }
    MutexLock lock(&mu_);
    *done = true;
  });
  jobs_.push_back(Job{std::move(thread), std::move(done)});
}

void BackgroundKills::ReapLocked() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (*it->done) {
      it->thread.join();  // It has set `done` and only returns now: a short wait at most.
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void BackgroundKills::JoinAll() {
  std::vector<Job> jobs;
  {
    MutexLock lock(&mu_);
    jobs.swap(jobs_);
  }
  for (Job& job : jobs) job.thread.join();
}

}  // namespace hera::worker
