// The agent's orders from the master (Dispatch, Cancel, Ack) and its runner's events.
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/mutex_lock.h"
#include "exec/run_setup.h"
#include "rpc/convert.h"
#include "worker/agent.h"
#include "worker/job_command.h"
#include "worker/result_record.h"
#include "worker/run_log.h"

namespace hera::worker {

void WorkerAgent::Handle(const v1::MasterMessage& message) {
  switch (message.body_case()) {
    case v1::MasterMessage::kDispatch:
      HandleDispatch(message.dispatch());
      break;
    case v1::MasterMessage::kCancel:
      HandleCancel(message.cancel().run_id());
      break;
    case v1::MasterMessage::kAck:
      for (int64_t run : message.ack().run_ids()) {
        if (absl::Status st = outbox_->Ack(run); !st.ok()) {
          spdlog::error("run {}: cannot drop its acknowledged result: {}", run, st.ToString());
        }
      }
      break;
    case v1::MasterMessage::kRegistered:
      spdlog::warn("master sent Registered again on a registered stream; ignored");
      break;
    default:
      spdlog::warn("unknown message from the master (body {}); ignored",
                   static_cast<int>(message.body_case()));
      break;
  }
}

void WorkerAgent::HandleDispatch(const v1::Dispatch& dispatch) {
  const int64_t run = dispatch.run_id();
  if (dispatch.term() < term_->max_term()) {
    Refuse(run, absl::StrCat("stale master term ", dispatch.term(), " < ", term_->max_term()));
    return;
  }
  if (absl::Status st = term_->Raise(dispatch.term()); !st.ok()) {
    // Still obey: the term only guards against an older master, and this one is the newest.
    spdlog::error("cannot record master term {}: {}", dispatch.term(), st.ToString());
  }
  absl::StatusOr<core::DispatchOrder> order = rpc::FromProto(dispatch);
  if (!order.ok()) {
    Refuse(run, std::string(order.status().message()));
    return;
  }
  // A dispatch re-sent after a reconnect must not start the run twice.
  if (held_.Contains(run) || InOutbox(run)) {
    spdlog::info("run {}: dispatched again, already held; ignored", run);
    return;
  }
  absl::StatusOr<JobCommand> command = CommandOf(*order);
  if (!command.ok()) {
    ReportNotStarted(run, dispatch.term(), command.status().message());
    return;
  }
  exec::RunSpec spec;
  spec.run_id = run;
  spec.argv = command->argv;
  spec.script = order->script;
  spec.script_name = command->script_name;
  spec.run_as = command->run_as;
  spec.env = order->env;
  spec.masked = order->masked;
  spec.work_dir = WorkDirOf(options_.data_dir, run);
  spec.timeout = absl::Seconds(order->timeout_s);
  held_.Add(run, dispatch.term(), spec.work_dir);
  if (!order->downloads.empty()) {
    FetchAndStart(std::move(spec), order->downloads, dispatch.term());
    return;
  }
  if (absl::Status st = runner_->Start(std::move(spec)); !st.ok()) {
    ReportNotStarted(run, dispatch.term(), st.message());
  }
}

void WorkerAgent::HandleCancel(int64_t run) {
  if (held_.Contains(run)) {
    spdlog::info("run {}: cancelled by the master", run);
    KillRun(run);
    return;
  }
  // Already ended (its result is on its way), or never here: the master reconciles the latter
  // from Register and the heartbeats' running_run_ids.
  spdlog::info("run {}: cancel for a run this worker does not run; ignored", run);
}

void WorkerAgent::FetchAndStart(exec::RunSpec spec,
                                const std::vector<std::pair<std::string, std::string>>& downloads,
                                uint64_t term) {
  FetchJob job;
  job.downloads = downloads;
  job.work_dir = spec.work_dir;
  job.reserved_names = {spec.script_name};
  FetchOptions fetch = options_.fetch;
  fetch.token = options_.token;
  {
    MutexLock lock(&mu_);
    fetch.resource_url = resource_url_;
  }
  // An hdfs client sees what the job will see (HADOOP_USER_NAME from its configs, say).
  fetch.env = exec::MergeEnvironment(exec::CurrentEnvironment(), spec.env);
  const int64_t run = spec.run_id;
  downloads_->Submit(
      run, std::move(job), std::move(fetch),
      [this, run, term, spec = std::move(spec)](absl::Status fetched) mutable {
        if (fetched.ok()) {
          if (absl::Status st = runner_->Start(std::move(spec)); !st.ok()) {
            ReportNotStarted(run, term, st.message());
          }
          return;
        }
        // As if the runner had ended it unspawned: fenced, stopped and abandoned runs are
        // told apart there.
        exec::Outcome outcome;
        outcome.how = exec::SpawnFailed{std::string(fetched.message())};
        outcome.cancelled = absl::IsCancelled(fetched);
        OnFinished(run, outcome);
      });
}

void WorkerAgent::KillRun(int64_t run) {
  std::vector<std::string> external = held_.ExternalJobIds(run);
  // A run still fetching is the stage's to end; one it handed on is the runner's.
  if (!downloads_->Cancel(run)) runner_->Cancel(run);
  kills_->Launch(run, std::move(external));
}

void WorkerAgent::Refuse(int64_t run, const std::string& reason) {
  spdlog::warn("run {}: dispatch refused: {}", run, reason);
  v1::WorkerMessage message;
  v1::DispatchRefused* refused = message.mutable_refused();
  refused->set_run_id(run);
  refused->set_reason(reason);
  queue_.Push(std::move(message));
}

void WorkerAgent::ReportNotStarted(int64_t run, uint64_t term, absl::string_view error) {
  held_.Remove(run);
  core::RunResult result;
  result.run_id = run;
  result.error = std::string(error);
  result.ended_at = clock_->Now();
  ReportResult(result, term, 0);
}

void WorkerAgent::ReportResult(const core::RunResult& result, uint64_t term, int64_t log_bytes) {
  if (absl::Status st = outbox_->Put(ToRecord(result, static_cast<int64_t>(term), log_bytes));
      !st.ok()) {
    spdlog::error("run {}: result not stored in the outbox ({}); sending it once anyway",
                  result.run_id, st.ToString());
  }
  v1::WorkerMessage message;
  *message.mutable_finished() = rpc::ToProto(result, term, log_bytes);
  queue_.Push(std::move(message));
}

bool WorkerAgent::InOutbox(int64_t run) const {
  for (const ResultRecord& record : outbox_->Pending()) {
    if (record.run_id == run) return true;
  }
  return false;
}

void WorkerAgent::OnStarted(int64_t run_id, pid_t pid) {
  const absl::Time now = clock_->Now();
  held_.MarkStarted(run_id, pid, now);
  if (held_.IsAbandoned(run_id)) return;
  v1::WorkerMessage message;
  v1::RunStarted* started = message.mutable_started();
  started->set_run_id(run_id);
  started->set_started_at_unix_us(absl::ToUnixMicros(now));
  started->set_pid(pid);
  queue_.Push(std::move(message));
}

void WorkerAgent::OnOutput(int64_t run_id, int64_t offset, std::string_view bytes) {
  if (!held_.AddOutput(run_id, offset, bytes)) return;
  v1::WorkerMessage message;
  v1::LogChunk* chunk = message.mutable_log();
  chunk->set_run_id(run_id);
  chunk->set_offset(offset);
  chunk->set_data(bytes.data(), bytes.size());
  // Dropped when the writer lags far behind or no master listens: the writer re-reads it from
  // output.log when it notices the gap.
  queue_.PushLog(std::move(message));
}

void WorkerAgent::OnFinished(int64_t run_id, const exec::Outcome& outcome) {
  const std::optional<HeldRun> run = held_.Get(run_id);
  const uint64_t term = run ? run->term : 0;
  const int64_t log_bytes = run ? run->produced : 0;
  if (!outcome.log_error.empty()) {
    spdlog::warn("run {}: output.log is incomplete: {}", run_id, outcome.log_error);
  }
  if (held_.IsAbandoned(run_id)) {
    held_.Remove(run_id);
    return;
  }
  core::RunResult result = ResultOf(run_id, outcome, clock_->Now());
  bool fenced = false;
  bool stopped = false;
  {
    MutexLock lock(&mu_);
    fenced = fenced_runs_.erase(run_id) > 0;
    stopped = stopped_runs_.erase(run_id) > 0;
  }
  if (fenced) {
    // Not a user's cancel: a master that still holds the run must retry it, not end it.
    result.cancelled = false;
    result.error = absl::StrCat("lost: worker ", id_,
                                " was cut off from the master too long and killed it");
  } else if (stopped && result.cancelled) {
    result.cancelled = false;
    result.error = absl::StrCat("lost: worker ", id_, " was stopped and killed it");
  }
  // Durable first: a worker killed right after still reports the result after its restart.
  if (absl::Status st = outbox_->Put(ToRecord(result, static_cast<int64_t>(term), log_bytes));
      !st.ok()) {
    spdlog::error("run {}: result not stored in the outbox ({}); sending it once anyway", run_id,
                  st.ToString());
  }
  held_.Remove(run_id);
  // The master may have abandoned it meanwhile (Registered): then the result goes too.
  if (held_.IsAbandoned(run_id)) {
    (void)outbox_->Ack(run_id);
    return;
  }
  v1::WorkerMessage message;
  *message.mutable_finished() = rpc::ToProto(result, term, log_bytes);
  queue_.Push(std::move(message));
}

}  // namespace hera::worker
