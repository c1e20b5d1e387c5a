#include "api/handler_pool.h"

#include <algorithm>
#include <utility>

#include "common/thread_name.h"

namespace hera::api {

HandlerPool::HandlerPool(int threads, const std::string& name) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this, name] {
      NameCurrentThread(name);
      Loop();
    });
  }
}

HandlerPool::~HandlerPool() { Stop(); }

void HandlerPool::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(task));
      ready_.notify_one();
      return;
    }
  }
  // Stopped: `task` (and what it holds) is destroyed here, outside the lock.
}

void HandlerPool::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    ready_.notify_all();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void HandlerPool::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and all queued work is done
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace hera::api
