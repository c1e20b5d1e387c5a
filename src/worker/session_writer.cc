#include "worker/session_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "rpc/convert.h"
#include "worker/result_record.h"
#include "worker/run_log.h"

namespace hera::worker {
namespace {

// The size of a re-sent chunk: the runner's own chunks are at most this big too.
constexpr int64_t kChunkBytes = 64 * 1024;

}  // namespace

void SessionWriter::Loop() {
  if (!CatchUp() || !SendHeartbeat()) return;
  absl::Time next_heartbeat = absl::Now() + c_.heartbeat_interval;
  for (;;) {
    if (std::optional<v1::WorkerMessage> message = c_.queue->Pop(next_heartbeat)) {
      if (!Send(*message)) return;
    } else if (absl::Now() < next_heartbeat) {
      return;  // Pop() returned early: the queue was closed.
    }
    // Checked after every message too, so a busy stream (a run printing without pause) still
    // carries its heartbeats.
    if (absl::Now() >= next_heartbeat) {
      if (!FillDroppedLogs() || !SendHeartbeat()) return;
      next_heartbeat = std::max(next_heartbeat + c_.heartbeat_interval, absl::Now());
    }
  }
}

bool SessionWriter::CatchUp() {
  // Runs started while no master listened, then the log bytes the master lacks.
  for (const HeldRun& run : c_.held->Snapshot()) {
    if (run.started && c_.held->TakeAnnouncement(run.run_id)) {
      v1::WorkerMessage message;
      v1::RunStarted* started = message.mutable_started();
      started->set_run_id(run.run_id);
      started->set_started_at_unix_us(absl::ToUnixMicros(run.started_at));
      started->set_pid(run.pid);
      if (!c_.stream->Write(message)) return false;
    }
    if (!FillLog(run.run_id, LogSize(run.work_dir))) return false;
  }
  // Results the master has not acknowledged, whether it got them before or not.
  for (const ResultRecord& record : c_.outbox->Pending()) {
    if (c_.held->IsAbandoned(record.run_id)) continue;
    v1::RunFinished finished = rpc::ToProto(ToRunResult(record), static_cast<uint64_t>(record.term),
                                            record.log_bytes);
    if (!SendFinished(finished)) return false;
    caught_up_.insert(record.run_id);
  }
  return true;
}

bool SessionWriter::Send(const v1::WorkerMessage& message) {
  switch (message.body_case()) {
    case v1::WorkerMessage::kStarted:
      return SendStarted(message);
    case v1::WorkerMessage::kLog:
      return SendLog(message.log());
    case v1::WorkerMessage::kFinished:
      // A run that ended while the stream was being registered is queued and was also in the
      // outbox that catch-up sent.
      if (caught_up_.erase(message.finished().run_id()) > 0) return true;
      return SendFinished(message.finished());
    default:
      return c_.stream->Write(message);
  }
}

bool SessionWriter::SendStarted(const v1::WorkerMessage& message) {
  // Catch-up may have announced it already.
  if (!c_.held->TakeAnnouncement(message.started().run_id())) return true;
  return c_.stream->Write(message);
}

bool SessionWriter::SendLog(const v1::LogChunk& chunk) {
  const int64_t run_id = chunk.run_id();
  // A run that ended has its RunFinished queued or sent; SendFinished() sends its whole log.
  if (!c_.held->Contains(run_id)) return true;
  const int64_t end = chunk.offset() + static_cast<int64_t>(chunk.data().size());
  int64_t& sent = sent_[run_id];
  if (end <= sent) return true;  // Catch-up sent it from the file.
  if (chunk.offset() > sent) {
    // Chunks before this one were dropped: the file has them (and this one).
    return FillLog(run_id, end);
  }
  v1::WorkerMessage message;
  v1::LogChunk* out = message.mutable_log();
  out->set_run_id(run_id);
  out->set_offset(sent);
  out->set_data(chunk.data().substr(static_cast<size_t>(sent - chunk.offset())));
  if (!c_.stream->Write(message)) return false;
  sent = end;
  return true;
}

bool SessionWriter::FillLog(int64_t run_id, int64_t end) {
  int64_t& sent = sent_[run_id];
  const std::string work_dir = WorkDirOf(c_.data_dir, run_id);
  while (sent < end) {
    absl::StatusOr<std::string> data = ReadLog(work_dir, sent, std::min(kChunkBytes, end - sent));
    if (!data.ok() || data->empty()) {
      spdlog::warn("run {}: the master lacks log bytes {}-{} that {}", run_id, sent, end,
                   data.ok() ? "output.log does not hold" : data.status().ToString());
      return true;
    }
    v1::WorkerMessage message;
    v1::LogChunk* chunk = message.mutable_log();
    chunk->set_run_id(run_id);
    chunk->set_offset(sent);
    chunk->set_data(*std::move(data));
    if (!c_.stream->Write(message)) return false;
    sent += static_cast<int64_t>(chunk->data().size());
  }
  return true;
}

bool SessionWriter::SendFinished(const v1::RunFinished& finished) {
  if (!FillLog(finished.run_id(), finished.log_bytes())) return false;
  v1::WorkerMessage message;
  *message.mutable_finished() = finished;
  if (!c_.stream->Write(message)) return false;
  sent_.erase(finished.run_id());  // Its log is complete: nothing more will come.
  return true;
}

bool SessionWriter::FillDroppedLogs() {
  for (const HeldRun& run : c_.held->Snapshot()) {
    auto it = sent_.find(run.run_id);
    if (run.produced > (it == sent_.end() ? 0 : it->second) && !FillLog(run.run_id, run.produced)) {
      return false;
    }
  }
  return true;
}

bool SessionWriter::SendHeartbeat() {
  v1::WorkerMessage message;
  v1::Heartbeat* heartbeat = message.mutable_heartbeat();
  if (absl::StatusOr<MachineMetrics> m = c_.sampler->Sample(); m.ok()) {
    v1::Metrics* metrics = heartbeat->mutable_metrics();
    metrics->set_cpu_percent(m->cpu_percent);
    metrics->set_load_per_core(m->load_per_core);
    metrics->set_memory_used_bytes(m->memory_used_bytes);
    metrics->set_memory_total_bytes(m->memory_total_bytes);
    metrics->set_disk_free_bytes(m->disk_free_bytes);
    metrics->set_cpus(m->cpus);
  } else {
    spdlog::warn("heartbeat without metrics: {}", m.status().ToString());
  }
  // Runs waiting for a slot count too: the master gave them to this worker and must not
  // think them lost.
  for (const HeldRun& run : c_.held->Snapshot()) heartbeat->add_running_run_ids(run.run_id);
  heartbeat->set_sent_at_unix_ms(absl::ToUnixMillis(c_.clock->Now()));
  return c_.stream->Write(message);
}

}  // namespace hera::worker
