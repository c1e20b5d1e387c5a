#include "worker/outgoing_queue.h"

#include "common/mutex_lock.h"

namespace hera::worker {
namespace {

int64_t LogBytes(const v1::WorkerMessage& message) {
  return message.has_log() ? static_cast<int64_t>(message.log().data().size()) : 0;
}

}  // namespace

void OutgoingQueue::Open() {
  MutexLock lock(&mu_);
  open_ = true;
}

void OutgoingQueue::Close() {
  MutexLock lock(&mu_);
  open_ = false;
  messages_.clear();
  log_bytes_ = 0;
  changed_.SignalAll();
}

bool OutgoingQueue::Push(v1::WorkerMessage message) {
  MutexLock lock(&mu_);
  if (!open_) return false;
  log_bytes_ += LogBytes(message);
  messages_.push_back(std::move(message));
  changed_.Signal();
  return true;
}

bool OutgoingQueue::PushLog(v1::WorkerMessage message) {
  MutexLock lock(&mu_);
  if (!open_ || log_bytes_ + LogBytes(message) > max_log_bytes_) return false;
  log_bytes_ += LogBytes(message);
  messages_.push_back(std::move(message));
  changed_.Signal();
  return true;
}

std::optional<v1::WorkerMessage> OutgoingQueue::Pop(absl::Time deadline) {
  MutexLock lock(&mu_);
  while (open_ && messages_.empty()) {
    // The wait releases mu_: tell TSan (common/mutex_lock.h) as MutexLock::Wait does.
    TsanReleasing(&mu_);
    const bool timed_out = changed_.WaitWithDeadline(&mu_, deadline);
    TsanAcquired(&mu_);
    if (timed_out) break;
  }
  if (!open_ || messages_.empty()) return std::nullopt;
  v1::WorkerMessage message = std::move(messages_.front());
  messages_.pop_front();
  log_bytes_ -= LogBytes(message);
  return message;
}

}  // namespace hera::worker
