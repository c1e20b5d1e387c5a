#include "worker/download_stage.h"

#include <algorithm>
#include <utility>

#include "common/mutex_lock.h"

namespace hera::worker {

DownloadStage::DownloadStage(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

DownloadStage::~DownloadStage() { Shutdown(); }

void DownloadStage::Submit(int64_t run_id, FetchJob job, FetchOptions options, Done done) {
  auto item = std::make_shared<Item>();
  item->run_id = run_id;
  item->job = std::move(job);
  item->options = std::move(options);
  item->done = std::move(done);
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      items_[run_id] = item;
      queue_.push_back(std::move(item));
      work_.Signal();
      return;
    }
  }
  item->done(absl::CancelledError("the worker is stopping"));
}

bool DownloadStage::Cancel(int64_t run_id) {
  MutexLock lock(&mu_);
  auto it = items_.find(run_id);
  if (it == items_.end()) return false;
  it->second->cancel.store(true);  // a running fetch notices within 100 ms
  return true;
}

void DownloadStage::Shutdown() {
  std::deque<std::shared_ptr<Item>> queued;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [run, item] : items_) item->cancel.store(true);
    queued.swap(queue_);
    for (const auto& item : queued) items_.erase(item->run_id);
    work_.SignalAll();
  }
  for (const auto& item : queued) item->done(absl::CancelledError("the worker is stopping"));
  MutexLock join(&join_mu_);
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void DownloadStage::Loop() {
  for (;;) {
    std::shared_ptr<Item> item;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) {
        TsanReleasing(&mu_);  // The wait releases mu_ (common/mutex_lock.h).
        work_.Wait(&mu_);
        TsanAcquired(&mu_);
      }
      if (queue_.empty()) return;  // stopping
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    absl::Status status = item->cancel.load()
                              ? absl::CancelledError("cancelled before its downloads")
                              : FetchDownloads(item->job, item->options, &item->cancel);
    {
      MutexLock lock(&mu_);
      items_.erase(item->run_id);
      // A Cancel() that came as the fetch ended still wins: the run has not been handed on.
      if (status.ok() && item->cancel.load()) status = absl::CancelledError("cancelled");
      if (status.ok()) {
        // Under the lock, so a Cancel() either came before (and was seen just above) or finds
        // the run gone and cancels it where `done` put it.
        item->done(absl::OkStatus());
        continue;
      }
    }
    item->done(std::move(status));
  }
}

}  // namespace hera::worker
