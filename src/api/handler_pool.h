#pragma once
// A fixed set of threads that run request handlers, which may block (the engine, the store),
// away from the threads doing network IO. Tasks wait in one queue without a bound of its own:
// the server queues at most one task per connection, so its connection cap bounds the queue.
// Thread-safe.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hera::api {

class HandlerPool {
 public:
  // Starts `threads` (at least 1) threads named `name`.
  HandlerPool(int threads, const std::string& name);
  // Stop().
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  // Queues `task` to run on one of the threads, in order of posting. After Stop() the task is
  // destroyed unrun.
  void Post(std::function<void()> task);
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace hera::api
