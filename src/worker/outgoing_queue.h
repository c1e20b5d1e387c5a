#pragma once
// Messages from the worker agent to the master, waiting for the one thread that writes the
// stream (gRPC allows one writer at a time). Producers (the runner's thread, the connection
// thread) never wait on the network: they queue and return.

#include <cstdint>
#include <deque>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "hera/v1/worker.pb.h"

namespace hera::worker {

// Closed (dropping everything) while no stream is up: what matters is re-sent after the next
// registration anyway (results from the outbox, logs from output.log, starts from HeldRuns).
// Log chunks are bounded by bytes and dropped beyond the bound, for the same reason; other
// messages (a handful per run) are never dropped while open. Thread-safe.
class OutgoingQueue {
 public:
  explicit OutgoingQueue(int64_t max_log_bytes) : max_log_bytes_(max_log_bytes) {}

  // Starts accepting messages (a stream is registered).
  void Open();
  // Drops what is queued, refuses further messages, and wakes Pop().
  void Close();
  // Queues `message`; false (dropped) if the queue is closed.
  bool Push(v1::WorkerMessage message);
  // Queues a message holding a LogChunk; false (dropped) if the queue is closed or the queued
  // chunks already hold max_log_bytes.
  bool PushLog(v1::WorkerMessage message);
  // The oldest message, waiting for one until `deadline`; nullopt at the deadline or when the
  // queue is closed.
  std::optional<v1::WorkerMessage> Pop(absl::Time deadline);

 private:
  const int64_t max_log_bytes_;

  // Protected by mu_
  absl::Mutex mu_;
  absl::CondVar changed_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<v1::WorkerMessage> messages_ ABSL_GUARDED_BY(mu_);
  int64_t log_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // Bytes of the LogChunks in messages_.
};

}  // namespace hera::worker
