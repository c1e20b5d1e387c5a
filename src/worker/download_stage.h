#pragma once
// Where a worker's runs wait while their downloads are fetched (worker/fetch_downloads.h),
// before they go to the JobRunner. Fetches run on the stage's own few threads, so neither the
// runner's loop nor the agent's stream reader ever waits for a network or an hdfs command.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "worker/fetch_downloads.h"

namespace hera::worker {

// Thread-safe. Destruction = Shutdown().
class DownloadStage {
 public:
  // Called exactly once per Submit(). With OK while the stage's lock is held: hand the run on
  // (JobRunner::Start) and return; a Cancel() meanwhile waits, then finds the run gone (false)
  // and the caller cancels it where it went. Otherwise without the lock, with the fetch's error
  // ("download <uri> failed: ...") or Cancelled: the run must end with it and not start.
  // Must not call back into the stage.
  using Done = std::function<void(absl::Status)>;

  // Starts `threads` fetching threads (at least 1).
  explicit DownloadStage(int threads = 4);
  ~DownloadStage();
  DownloadStage(const DownloadStage&) = delete;
  DownloadStage& operator=(const DownloadStage&) = delete;

  // Queues the run's fetch. After Shutdown(), `done` gets Cancelled at once.
  void Submit(int64_t run_id, FetchJob job, FetchOptions options, Done done);
  // Stops the run's fetch: true if it was queued or fetching here (its Done gets Cancelled,
  // unless the fetch had already failed); false if the stage does not hold it (any more).
  bool Cancel(int64_t run_id);
  // Cancels every fetch, calls the Done of each, and joins the threads. Idempotent.
  void Shutdown();

 private:
  struct Item {
    int64_t run_id = 0;
    FetchJob job;
    FetchOptions options;
    Done done;
    std::atomic<bool> cancel{false};
  };

  void Loop();

  std::vector<std::thread> threads_;
  absl::Mutex join_mu_;  // serializes Shutdown()'s joins

  // Protected by mu_
  absl::Mutex mu_;
  absl::CondVar work_;  // an item was queued, or the stage stops
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::shared_ptr<Item>> queue_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::shared_ptr<Item>> items_ ABSL_GUARDED_BY(mu_);  // queued or fetching
};

}  // namespace hera::worker
