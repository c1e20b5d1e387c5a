// The agent's life: creation, the connection loop with its handshake (Register, Registered,
// catch-up), the watchdog and shutdown. Orders and runner events are in agent_orders.cc.
#include "worker/agent.h"

#include <signal.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/mutex_lock.h"
#include "common/status.h"
#include "exec/run_ledger.h"
#include "hera/v1/worker.grpc.pb.h"
#include "worker/backoff.h"
#include "worker/master_channel.h"
#include "worker/result_record.h"
#include "worker/run_log.h"
#include "worker/session_writer.h"
#include "worker/worker_identity.h"

#ifndef HERA_VERSION
#define HERA_VERSION "0.1.0"
#endif

namespace hera::worker {
namespace {

// A master that accepted the stream but does not answer Register within this is treated as
// unreachable (also bounds a connect to an address that drops packets).
constexpr absl::Duration kHandshakeTimeout = absl::Seconds(10);
constexpr absl::Duration kDefaultHeartbeat = absl::Seconds(2);
// Cancel kills YARN/MapReduce jobs with commands that may hang: they get this long.
constexpr absl::Duration kExternalKillDeadline = absl::Seconds(30);
// Log chunks queued for the writer beyond this are dropped (and re-read from output.log).
constexpr int64_t kMaxQueuedLogBytes = 8 * 1024 * 1024;

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN_CODE";
  }
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat(CodeName(status.error_code()), ": ", status.error_message());
}

}  // namespace

WorkerAgent::WorkerAgent(AgentOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock), queue_(kMaxQueuedLogBytes) {}

absl::StatusOr<std::unique_ptr<WorkerAgent>> WorkerAgent::Create(AgentOptions options,
                                                                 const Clock* clock) {
  if (options.masters.empty()) return absl::InvalidArgumentError("worker: no master address");
  for (const std::string& master : options.masters) {
    if (master.empty()) return absl::InvalidArgumentError("worker: an empty master address");
  }
  if (options.slots < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker: slots must be at least 1, not ", options.slots));
  }
  if (options.data_dir.empty()) return absl::InvalidArgumentError("worker: no data directory");
  if (options.token.empty()) return absl::InvalidArgumentError("worker: the cluster token is empty");
  if (options.host_groups.empty()) options.host_groups = {"default"};
  std::unique_ptr<WorkerAgent> agent(new WorkerAgent(std::move(options), clock));
  HERA_RETURN_IF_ERROR(agent->Init());
  return agent;
}

absl::Status WorkerAgent::Init() {
  const std::string& dir = options_.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/work", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, "/work: ", ec.message()));
  // First: the ledger below names process groups to kill, which must be ours, not those of
  // another worker that is alive on the same directory.
  if (!options_.data_dir_locked) {
    HERA_ASSIGN_OR_RETURN(lock_, LockWorkerDataDir(dir));
  }
  HERA_ASSIGN_OR_RETURN(id_, LoadOrCreateWorkerId(dir, options_.id));
  host_ = HostName();
  HERA_ASSIGN_OR_RETURN(TermFile term, TermFile::Open(dir + "/term"));
  term_.emplace(std::move(term));
  HERA_ASSIGN_OR_RETURN(credentials_, MasterCredentials(options_.tls_ca_file));

  // A crashed worker's children outlive it in their own process groups: end them before any
  // run can start again, and tell the master through the outbox.
  const std::string ledger = dir + "/ledger";
  leftovers_ = exec::KillLeftovers(ledger);
  HERA_ASSIGN_OR_RETURN(outbox_, ResultOutbox::Open(dir + "/outbox"));
  HERA_RETURN_IF_ERROR(ReportLeftovers());

  sampler_ = std::make_unique<MetricsSampler>(dir + "/work");
  kills_ = std::make_unique<BackgroundKills>(options_.kill_commands, kExternalKillDeadline);
  exec::JobRunnerOptions runner_options;
  runner_options.kill_grace = options_.kill_grace;
  runner_options.ledger_dir = ledger;
  runner_options.max_running = options_.slots;  // the master may give more: they wait here
  runner_options.clock = clock_;  // ends and starts are recorded by the same clock
  HERA_ASSIGN_OR_RETURN(runner_, exec::JobRunner::Create(this, runner_options));
  downloads_ = std::make_unique<DownloadStage>();
  return absl::OkStatus();
}

absl::Status WorkerAgent::ReportLeftovers() {
  for (int64_t run : leftovers_) {
    spdlog::warn("run {}: killed its processes, left by a previous worker process", run);
    if (InOutbox(run)) continue;
    core::RunResult result;
    result.run_id = run;
    // It did run, until the worker's process died: lost, so the master retries it per the
    // job's policy (a "could not start" error would end it for good).
    result.lost = "worker restarted: the run's processes were killed";
    result.signal = SIGKILL;
    result.ended_at = clock_->Now();
    // Term 0: the dispatch's term died with the previous process.
    HERA_RETURN_IF_ERROR(outbox_->Put(ToRecord(result, 0, LogSize(WorkDirOf(options_.data_dir, run)))));
  }
  return absl::OkStatus();
}

WorkerAgent::~WorkerAgent() {
  Stop();
  if (downloads_) downloads_->Shutdown();
  if (runner_) runner_->Shutdown();
  if (kills_) kills_->JoinAll();
}

void WorkerAgent::Stop() {
  MutexLock lock(&mu_);
  stopping_ = true;
  if (context_ != nullptr) context_->TryCancel();
  changed_.SignalAll();
}

absl::Status WorkerAgent::Run() {
  std::thread watchdog([this] { WatchLoop(); });
  Backoff backoff(absl::Milliseconds(200), absl::Seconds(5));
  size_t master = 0;
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) break;
    }
    if (RunSession(master).registered) {
      backoff.Reset();  // Come back to the same master first: it most likely restarted.
    } else {
      master = (master + 1) % options_.masters.size();
    }
    if (!SleepUnlessStopped(backoff.Next())) break;
  }
  watchdog.join();
  // Runs are killed, with the YARN/MapReduce jobs they started (the master retries them
  // elsewhere); their results stay in the outbox for the next start to report.
  const std::vector<HeldRun> runs = held_.Snapshot();
  {
    MutexLock lock(&mu_);
    for (const HeldRun& run : runs) stopped_runs_.insert(run.run_id);
  }
  for (const HeldRun& run : runs) KillRun(run.run_id);
  // Fetching runs end before the runner stops: none may be handed to a stopped runner.
  downloads_->Shutdown();
  runner_->Shutdown();
  kills_->JoinAll();
  return absl::OkStatus();
}

bool WorkerAgent::SleepUnlessStopped(absl::Duration d) {
  const absl::Time until = absl::Now() + d;
  MutexLock lock(&mu_);
  while (!stopping_) {
    TsanReleasing(&mu_);  // The wait releases mu_ (common/mutex_lock.h).
    const bool timed_out = changed_.WaitWithDeadline(&mu_, until);
    TsanAcquired(&mu_);
    if (timed_out) break;
  }
  return !stopping_;
}

WorkerAgent::SessionEnd WorkerAgent::RunSession(size_t master) {
  const std::string& address = options_.masters[master];
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + options_.token);
  {
    MutexLock lock(&mu_);
    if (stopping_) return {};
    context_ = &context;
    handshake_deadline_ = absl::Now() + kHandshakeTimeout;
    changed_.SignalAll();
  }
  absl::Cleanup forget_context = [this] {
    MutexLock lock(&mu_);
    context_ = nullptr;
    handshake_deadline_.reset();
  };

  // A new channel per attempt: a reused one that failed waits out gRPC's own reconnect backoff
  // (which fails attempts fast without connecting), so a restarted master would be found late.
  auto stub = v1::WorkerService::NewStub(MasterChannel(address, credentials_));
  std::unique_ptr<WorkerStream> stream = stub->Connect(&context);
  v1::MasterMessage reply;
  if (!stream->Write(BuildRegister()) || !stream->Read(&reply)) {
    LogConnectFailure(address, stream->Finish());
    return {};
  }
  if (!reply.has_registered()) {
    spdlog::error("master {} answered Register with message {} instead of Registered; "
                  "trying again", address, static_cast<int>(reply.body_case()));
    context.TryCancel();
    (void)stream->Finish();
    return {};
  }
  const v1::Registered& registered = reply.registered();
  if (registered.term() < term_->max_term()) {
    // A deposed leader that does not know it yet: its orders must not run (DESIGN §2).
    spdlog::error("master {} is at term {}, older than term {} this worker already took orders "
                  "from: a deposed master; trying the next one",
                  address, registered.term(), term_->max_term());
    context.TryCancel();
    (void)stream->Finish();
    return {};
  }
  if (absl::Status st = term_->Raise(registered.term()); !st.ok()) {
    spdlog::error("cannot record master term {}: {}", registered.term(), st.ToString());
  }
  Abandon(registered);
  {
    MutexLock lock(&mu_);
    resource_url_ = ResolveResourceUrl(registered.resource_url(), address);
  }

  absl::flat_hash_map<int64_t, int64_t> master_log_bytes;
  for (const v1::HeldRun& run : registered.master_log_bytes()) {
    master_log_bytes[run.run_id()] = run.log_bytes();
  }
  SessionWriterContext writer_context;
  writer_context.stream = stream.get();
  writer_context.queue = &queue_;
  writer_context.held = &held_;
  writer_context.outbox = outbox_.get();
  writer_context.sampler = sampler_.get();
  writer_context.clock = clock_;
  writer_context.data_dir = options_.data_dir;
  writer_context.heartbeat_interval = registered.heartbeat_interval_ms() > 0
                                          ? absl::Milliseconds(registered.heartbeat_interval_ms())
                                          : kDefaultHeartbeat;
  // Open before the writer reads the outbox: a result stored from now on is queued, one stored
  // before is in the outbox it reads, so none is missed.
  queue_.Open();
  SessionWriter writer(std::move(writer_context), std::move(master_log_bytes));
  writer.Start();
  {
    MutexLock lock(&mu_);
    handshake_deadline_.reset();
    disconnected_since_.reset();
    fenced_ = false;
    lost_after_ = absl::Milliseconds(std::max(0, registered.lost_after_ms()));
    last_heard_ = absl::Now();
    changed_.SignalAll();
  }
  last_failure_.clear();
  spdlog::info("worker {} connected to master {} (term {})", id_, address, registered.term());

  v1::MasterMessage message;
  while (stream->Read(&message)) {
    {
      MutexLock lock(&mu_);
      last_heard_ = absl::Now();
    }
    Handle(message);
  }

  queue_.Close();  // Ends the writer (a write blocked on a dead stream fails now too).
  writer.Join();
  const grpc::Status status = stream->Finish();
  bool stopping = false;
  {
    MutexLock lock(&mu_);
    // The master's clock for giving our runs up started when it last heard from us, about
    // when we last heard from it: fencing counts from there, not from when we noticed.
    disconnected_since_ = std::min(absl::Now(), last_heard_.value_or(absl::Now()));
    last_heard_.reset();
    stopping = stopping_;
    changed_.SignalAll();
  }
  if (!stopping) {
    spdlog::warn("lost master {} ({}); reconnecting", address, Describe(status));
  }
  return {.registered = true};
}

v1::WorkerMessage WorkerAgent::BuildRegister() {
  v1::WorkerMessage message;
  v1::Register* reg = message.mutable_register_();
  reg->set_worker_id(id_);
  reg->set_host(host_);
  for (const std::string& group : options_.host_groups) reg->add_host_groups(group);
  reg->set_slots(options_.slots);
  reg->set_max_term_seen(term_->max_term());
  reg->set_version(HERA_VERSION);
  absl::flat_hash_set<int64_t> listed;
  for (const HeldRun& run : held_.Snapshot()) {
    v1::HeldRun* held = reg->add_runs();
    held->set_run_id(run.run_id);
    held->set_log_bytes(LogSize(run.work_dir));
    held->set_started(run.started);
    // The master learns the start from Register: no RunStarted needed after it.
    if (run.started) held_.MarkAnnounced(run.run_id);
    listed.insert(run.run_id);
  }
  for (const ResultRecord& record : outbox_->Pending()) {
    if (listed.contains(record.run_id) || held_.IsAbandoned(record.run_id)) continue;
    const core::RunResult result = ToRunResult(record);
    v1::HeldRun* held = reg->add_runs();
    held->set_run_id(record.run_id);
    held->set_log_bytes(record.log_bytes);
    held->set_started(result.exit_code.has_value() || result.signal.has_value());
  }
  return message;
}

void WorkerAgent::Abandon(const v1::Registered& registered) {
  for (int64_t run : registered.abandon_run_ids()) {
    held_.Abandon(run);
    if (held_.Contains(run)) {
      spdlog::info("run {}: the master gave it up; killing it", run);
      KillRun(run);
    }
    if (absl::Status st = outbox_->Ack(run); !st.ok()) {
      spdlog::error("run {}: cannot drop its result from the outbox: {}", run, st.ToString());
    }
  }
}

void WorkerAgent::LogConnectFailure(const std::string& master, const grpc::Status& status) {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
  }
  const bool refused = status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                       status.error_code() == grpc::StatusCode::PERMISSION_DENIED;
  const std::string line =
      refused ? absl::StrCat("master ", master, " refused this worker's cluster token (",
                             Describe(status), "): check --token-file against the master's token")
              : absl::StrCat("cannot register with master ", master, ": ", Describe(status));
  // Retries go on every few seconds: say each new problem once, not every attempt. A refused
  // token needs the operator; an unreachable master (restarting) usually does not.
  if (line == last_failure_) {
    spdlog::debug("{}", line);
  } else if (refused) {
    spdlog::error("{}", line);
  } else {
    spdlog::warn("{}", line);
  }
  last_failure_ = line;
}

void WorkerAgent::WatchLoop() {
  for (;;) {
    absl::Duration fence_after;
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
      const absl::Time now = absl::Now();
      absl::Time wake = absl::InfiniteFuture();
      if (handshake_deadline_) {
        if (now >= *handshake_deadline_) {
          spdlog::warn("no answer to Register within {}; trying again",
                       absl::FormatDuration(kHandshakeTimeout));
          if (context_ != nullptr) context_->TryCancel();
          handshake_deadline_.reset();
        } else {
          wake = std::min(wake, *handshake_deadline_);
        }
      }
      // The master writes at least every heartbeat interval (an empty Ack when it has nothing
      // to say): a stream silent much longer is dead even if TCP has not noticed (a network
      // partition), and the fencing clock must start.
      if (last_heard_ && context_ != nullptr && lost_after_ > absl::ZeroDuration()) {
        const absl::Duration silence =
            std::clamp(lost_after_ / 2, absl::Seconds(5), absl::Seconds(15));
        if (now - *last_heard_ > silence) {
          spdlog::warn("no word from the master for {}; reconnecting",
                       absl::FormatDuration(now - *last_heard_));
          context_->TryCancel();
        } else {
          wake = std::min(wake, *last_heard_ + silence + absl::Milliseconds(10));
        }
      }
      bool fence = false;
      if (disconnected_since_ && lost_after_ > absl::ZeroDuration() && !fenced_) {
        const absl::Time fence_at = *disconnected_since_ + lost_after_;
        if (now >= fence_at) {
          fenced_ = true;
          fence = true;
          fence_after = lost_after_;
        } else {
          wake = std::min(wake, fence_at);
        }
      }
      if (!fence) {
        TsanReleasing(&mu_);  // The wait releases mu_ (common/mutex_lock.h).
        changed_.WaitWithDeadline(&mu_, wake);
        TsanAcquired(&mu_);
        continue;
      }
    }
    Fence(fence_after);
  }
}

void WorkerAgent::Fence(absl::Duration lost_after) {
  std::vector<HeldRun> runs = held_.Snapshot();
  if (runs.empty()) return;
  // By now the master has declared these runs lost and retried them elsewhere: kill them so
  // that no run executes twice at once. Their (cancelled) results go to the outbox; the master
  // will say to abandon them.
  spdlog::warn("no master for {}: killing this worker's {} runs, which the master has given up "
               "as lost and retried elsewhere",
               absl::FormatDuration(lost_after), runs.size());
  {
    MutexLock lock(&mu_);
    for (const HeldRun& run : runs) fenced_runs_.insert(run.run_id);
  }
  for (const HeldRun& run : runs) KillRun(run.run_id);
}

}  // namespace hera::worker
