#pragma once
// The one thread that writes to a registered stream (gRPC allows one writer at a time). It
// first brings the master up to date — RunStarted for runs it was not told of, the log bytes it
// lacks (from each run's output.log), every result still in the outbox — then sends what the
// agent queues, and a Heartbeat every interval.
//
// Logs reach the master in order, without gaps (the master's log store refuses a gap): the
// writer tracks how much of each run's log this stream carried, skips what was already sent and
// fills from output.log what the queue dropped. A run's RunFinished goes only after its whole log.

#include <cstdint>
#include <map>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/support/sync_stream.h"
#include "hera/v1/worker.pb.h"
#include "worker/held_runs.h"
#include "worker/machine_metrics.h"
#include "worker/outgoing_queue.h"
#include "worker/result_outbox.h"

namespace hera::worker {

using WorkerStream = grpc::ClientReaderWriterInterface<v1::WorkerMessage, v1::MasterMessage>;

struct SessionWriterContext {
  WorkerStream* stream = nullptr;
  OutgoingQueue* queue = nullptr;  // Open before Start(); closing it ends the writer.
  HeldRuns* held = nullptr;
  ResultOutbox* outbox = nullptr;
  MetricsSampler* sampler = nullptr;  // Used by this writer only while it runs.
  const Clock* clock = nullptr;
  std::string data_dir;  // Work dirs are <data_dir>/work/<run_id>.
  absl::Duration heartbeat_interval = absl::Seconds(2);
};

// Everything in the context must outlive the writer. Start() once, then Join().
class SessionWriter {
 public:
  // `master_log_bytes`: how many log bytes the master has of each run (Registered); a run not
  // listed is sent from its first byte.
  SessionWriter(SessionWriterContext context, absl::flat_hash_map<int64_t, int64_t> master_log_bytes)
      : c_(std::move(context)), sent_(master_log_bytes.begin(), master_log_bytes.end()) {}
  ~SessionWriter() { Join(); }
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  void Start() { thread_ = std::thread([this] { Loop(); }); }
  // Returns once the queue is closed or a write failed (the stream is broken).
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop();
  // Each returns false when a write failed: the stream is gone.
  bool CatchUp();
  bool Send(const v1::WorkerMessage& message);
  bool SendStarted(const v1::WorkerMessage& message);
  bool SendLog(const v1::LogChunk& chunk);
  // Sends <work>/output.log of `run_id` from what this stream carried up to `end`. A log
  // file shorter than `end` (its write failed on the worker) is sent as far as it goes.
  bool FillLog(int64_t run_id, int64_t end);
  bool SendFinished(const v1::RunFinished& finished);
  bool SendHeartbeat();
  // Log bytes that the runs' output produced and this stream did not carry (chunks the queue
  // dropped while full) are sent from the files.
  bool FillDroppedLogs();

  const SessionWriterContext c_;
  // Writer thread only:
  std::map<int64_t, int64_t> sent_;  // Run id -> log bytes the master has.
  absl::flat_hash_set<int64_t> caught_up_;  // Runs whose result CatchUp() sent.
  std::thread thread_;
};

}  // namespace hera::worker
