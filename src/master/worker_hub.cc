#include "master/worker_hub.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/thread_name.h"
#include "common/time_format.h"
#include "rpc/convert.h"

namespace hera::master {

namespace v1 = hera::v1;

// One live stream. Writes go through a queue drained by the connection's own writer thread, so
// the engine thread never waits for the network.
struct WorkerHub::Connection {
  explicit Connection(grpc::ServerReaderWriter<v1::MasterMessage, v1::WorkerMessage>* s,
                      grpc::ServerContext* c)
      : stream(s), context(c) {}

  grpc::ServerReaderWriter<v1::MasterMessage, v1::WorkerMessage>* const stream;
  grpc::ServerContext* const context;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<v1::MasterMessage> out;  // guarded by mu
  bool closed = false;                // guarded by mu
  absl::Time last_heard = absl::InfinitePast();  // guarded by the hub's mu_

  void WriteLoop() {
    for (;;) {
      v1::MasterMessage msg;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return closed || !out.empty(); });
        if (out.empty()) return;
        msg = std::move(out.front());
        out.pop_front();
      }
      if (!stream->Write(msg)) {
        // The stream broke; the reading side sees it too and cleans up.
        std::lock_guard lock(mu);
        closed = true;
        out.clear();
        return;
      }
    }
  }
  void Close() {
    {
      std::lock_guard lock(mu);
      closed = true;
    }
    cv.notify_all();
  }
};

namespace {

// Heartbeats a worker may miss before its stream counts as gone (DESIGN.md §6).
constexpr int kMissedHeartbeats = 3;

core::WorkerMetrics FromProto(const v1::Metrics& m) {
  core::WorkerMetrics out;
  out.cpu_percent = m.cpu_percent();
  out.load_per_core = m.load_per_core();
  out.memory_used_bytes = m.memory_used_bytes();
  out.memory_total_bytes = m.memory_total_bytes();
  out.disk_free_bytes = m.disk_free_bytes();
  out.cpus = m.cpus();
  return out;
}

}  // namespace

WorkerHub::WorkerHub(WorkerHubOptions options, core::Store* store, const Clock* clock,
                     LogStore* logs)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      logs_(logs),
      started_at_(clock->Now()) {}

WorkerHub::~WorkerHub() { Stop(); }

void WorkerHub::AddLocalWorker(const core::WorkerSlots& worker, core::WorkerPort* port) {
  std::lock_guard lock(mu_);
  Entry& e = workers_[worker.id];
  e.info.id = worker.id;
  e.info.host = "(in-process)";
  e.info.host_groups = worker.host_groups;
  e.info.slots = worker.slots;
  e.info.local = true;
  e.info.connected = true;
  e.info.registered_at = clock_->Now();
  e.local_port = port;
  host_groups_.insert(worker.host_groups.begin(), worker.host_groups.end());
}

absl::Status WorkerHub::Start() {
  auto stored = store_->ListHostGroups();
  if (!stored.ok()) return stored.status();
  std::set<std::string> groups;
  {
    std::lock_guard lock(mu_);
    host_groups_.insert(stored->begin(), stored->end());
    groups = host_groups_;
  }
  // The in-process worker's groups exist too.
  if (auto st = store_->AddHostGroups({groups.begin(), groups.end()}, clock_->Now()); !st.ok()) {
    return st;
  }
  engine_->SetKnownHostGroups(std::move(groups));
  watcher_ = std::thread([this] { WatchLoop(); });
  return absl::OkStatus();
}

void WorkerHub::Stop() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !watcher_.joinable()) return;
    stopping_ = true;
    for (auto& [id, e] : workers_) {
      if (e.connection) open.push_back(e.connection);
    }
  }
  stop_cv_.notify_all();
  for (auto& conn : open) {
    conn->context->TryCancel();
    conn->Close();
  }
  if (watcher_.joinable()) watcher_.join();
}

bool WorkerHub::TokenMatches(const grpc::ServerContext& context) const {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return false;
  const std::string expected = "Bearer " + options_.token;
  const grpc::string_ref& got = it->second;
  // Constant time: the comparison must not tell an attacker how much of a guess was right.
  if (got.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(got.data()[i] ^ expected[i]);
  }
  return diff == 0 && !options_.token.empty();
}

grpc::Status WorkerHub::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::MasterMessage, v1::WorkerMessage>* stream) {
  if (!TokenMatches(*context)) {
    spdlog::warn("refused a worker stream from {}: wrong or missing cluster token",
                 context->peer());
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "wrong or missing cluster token (check the worker's --token-file)");
  }
  v1::WorkerMessage first;
  if (!stream->Read(&first)) return grpc::Status::OK;
  if (!first.has_register_()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "the first message on a worker stream must be Register");
  }
  std::shared_ptr<Connection> conn;
  std::shared_ptr<Connection> fresh = std::make_shared<Connection>(stream, context);
  conn = fresh;
  if (grpc::Status st = Register(first.register_(), context, &conn); !st.ok()) return st;
  const std::string worker = first.register_().worker_id();
  std::thread writer([conn] { conn->WriteLoop(); });
  v1::WorkerMessage msg;
  while (stream->Read(&msg)) HandleMessage(worker, *conn, msg);
  conn->Close();
  writer.join();
  Disconnected(worker, conn);
  return grpc::Status::OK;
}

grpc::Status WorkerHub::Register(const v1::Register& reg, grpc::ServerContext* context,
                                 std::shared_ptr<Connection>* conn) {
  const std::string& id = reg.worker_id();
  if (id.empty() || reg.slots() <= 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "Register needs a worker_id and slots > 0");
  }
  if (reg.max_term_seen() > options_.term) {
    spdlog::error("worker {} has seen master term {} > ours ({}): this master is stale", id,
                  reg.max_term_seen(), options_.term);
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale master term");
  }
  core::WorkerSlots slots;
  slots.id = id;
  slots.slots = reg.slots();
  slots.prefetch = reg.slots();  // hides the network round trip between a run and the next
  slots.host_groups.assign(reg.host_groups().begin(), reg.host_groups().end());
  std::vector<core::RunId> held;
  for (const v1::HeldRun& r : reg.runs()) held.push_back(r.run_id());

  std::shared_ptr<Connection> previous;
  bool draining = false;
  std::set<std::string> groups;
  std::vector<std::string> new_groups;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "master is stopping");
    Entry& e = workers_[id];
    if (e.local_port) {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                          absl::StrCat("worker id '", id, "' is the master's own worker"));
    }
    previous = e.connection;
    draining = e.info.draining;
    // The new stream takes orders from now on, even those the engine sends while it handles
    // the registration below (a reclaimed run dispatched again at once): they queue behind
    // the Registered answer, which goes first (the writer starts only after this returns).
    e.connection = *conn;
    (*conn)->last_heard = clock_->Now();
    for (const std::string& g : slots.host_groups) {
      if (host_groups_.insert(g).second) new_groups.push_back(g);
    }
    groups = host_groups_;
  }
  // Stored before the worker is used: a run for its groups must survive a master restart.
  if (!new_groups.empty()) {
    if (auto st = store_->AddHostGroups(new_groups, clock_->Now()); !st.ok()) {
      Disconnected(id, *conn);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(st.message()));
    }
  }
  if (previous) {  // the same worker reconnected before its old stream was noticed dead
    previous->context->TryCancel();
    previous->Close();
  }
  slots.draining = draining;
  engine_->SetKnownHostGroups(groups);
  auto abandon = engine_->RegisterWorker(slots, held);
  if (!abandon.ok()) {
    Disconnected(id, *conn);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(abandon.status().message()));
  }
  v1::MasterMessage answer;
  v1::Registered* r = answer.mutable_registered();
  r->set_term(options_.term);
  r->set_heartbeat_interval_ms(
      static_cast<int32_t>(absl::ToInt64Milliseconds(options_.heartbeat_interval)));
  r->set_lost_after_ms(static_cast<int32_t>(absl::ToInt64Milliseconds(options_.grace)));
  r->set_resource_url(resource_url_);
  for (core::RunId run : *abandon) r->add_abandon_run_ids(run);
  const std::set<core::RunId> abandoned(abandon->begin(), abandon->end());
  for (const v1::HeldRun& held_run : reg.runs()) {
    if (abandoned.count(held_run.run_id())) continue;
    v1::HeldRun* known = r->add_master_log_bytes();
    known->set_run_id(held_run.run_id());
    known->set_log_bytes(logs_->Size(held_run.run_id()));
  }
  {
    std::lock_guard lock((*conn)->mu);
    (*conn)->out.push_front(std::move(answer));
  }
  {
    std::lock_guard lock(mu_);
    Entry& e = workers_[id];
    e.info.id = id;
    e.info.host = reg.host();
    e.info.host_groups = slots.host_groups;
    e.info.slots = reg.slots();
    e.info.connected = true;
    e.info.version = reg.version();
    e.info.registered_at = clock_->Now();
    e.info.last_heartbeat = clock_->Now();
    e.declared_lost = false;
    for (core::RunId run : e.pending_cancels) {
      v1::MasterMessage cancel;
      cancel.mutable_cancel()->set_run_id(run);
      Send(**conn, std::move(cancel));
    }
    e.pending_cancels.clear();
  }
  spdlog::info("worker {} registered from {} ({}; host groups {}; {} slots; holds {} runs, {} "
               "abandoned)",
               id, reg.host(), context->peer(), absl::StrJoin(slots.host_groups, ","),
               reg.slots(), held.size(), abandon->size());
  return grpc::Status::OK;
}

void WorkerHub::HandleMessage(const std::string& worker, Connection& conn,
                              const v1::WorkerMessage& msg) {
  const absl::Time now = clock_->Now();
  {
    std::lock_guard lock(mu_);
    conn.last_heard = now;
  }
  switch (msg.body_case()) {
    case v1::WorkerMessage::kHeartbeat: {
      const core::WorkerMetrics metrics = FromProto(msg.heartbeat().metrics());
      {
        std::lock_guard lock(mu_);
        Entry& e = workers_[worker];
        e.info.last_heartbeat = now;
        e.info.metrics = metrics;
        e.history.push_back({now, metrics});
        while (!e.history.empty() && e.history.front().at < now - options_.metrics_history) {
          e.history.pop_front();
        }
      }
      engine_->UpdateWorkerMetrics(worker, metrics);
      break;
    }
    case v1::WorkerMessage::kStarted:
      engine_->OnRunStarted(worker, msg.started().run_id(),
                            absl::FromUnixMicros(msg.started().started_at_unix_us()));
      break;
    case v1::WorkerMessage::kLog:
      engine_->OnRunOutput(msg.log().run_id(), msg.log().offset(), msg.log().data());
      break;
    case v1::WorkerMessage::kFinished: {
      const core::RunResult result = rpc::FromProto(msg.finished());
      const core::RunId run = result.run_id;
      // Acknowledged only once stored: until then the worker keeps it in its outbox.
      std::weak_ptr<Connection> weak;
      {
        std::lock_guard lock(mu_);
        weak = workers_[worker].connection;
      }
      engine_->OnRunFinished(worker, result, [this, weak, run] {
        if (auto c = weak.lock()) {
          v1::MasterMessage ack;
          ack.mutable_ack()->add_run_ids(run);
          Send(*c, std::move(ack));
        }
      });
      break;
    }
    case v1::WorkerMessage::kRefused: {
      spdlog::warn("worker {} refused run {}: {}", worker, msg.refused().run_id(),
                   msg.refused().reason());
      core::RunResult result;
      result.run_id = msg.refused().run_id();
      result.error = absl::StrCat("worker ", worker, " refused it: ", msg.refused().reason());
      result.ended_at = now;
      engine_->OnRunFinished(worker, result);
      break;
    }
    case v1::WorkerMessage::kRegister:
      spdlog::warn("worker {} sent Register twice on one stream; ignored", worker);
      break;
    case v1::WorkerMessage::BODY_NOT_SET:
      break;
  }
}

void WorkerHub::Disconnected(const std::string& worker, const std::shared_ptr<Connection>& conn) {
  {
    std::lock_guard lock(mu_);
    Entry& e = workers_[worker];
    if (e.connection != conn) return;  // already replaced by a newer stream
    e.connection.reset();
    e.info.connected = false;
    // The grace counts from the last message, not from when the silence was noticed: a frozen
    // worker is lost `grace` after it fell silent (DESIGN.md §6).
    e.disconnected_at = std::min(clock_->Now(), conn->last_heard);
  }
  spdlog::warn("worker {} disconnected; its runs are kept for {}", worker,
               absl::FormatDuration(options_.grace));
  engine_->SetWorkerConnected(worker, false);
}

void WorkerHub::WatchLoop() {
  NameCurrentThread("hera-hub");
  absl::Time last_keepalive = absl::InfinitePast();
  for (;;) {
    {
      std::unique_lock lock(mu_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
      if (stopping_) return;
    }
    auto runs = engine_->RunsByWorker();
    if (!runs.ok()) continue;
    const absl::Time now = clock_->Now();
    struct Lost {
      std::string worker, reason;
      absl::Time last_seen;
    };
    std::vector<Lost> lost;
    std::vector<std::shared_ptr<Connection>> silent;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, e] : workers_) {
        // A stream that is open but silent for 3 heartbeats (a frozen process, a half-dead TCP
        // connection) counts as gone: it takes nothing new, and its grace has been running
        // since its last message (Disconnected).
        if (e.connection &&
            now - e.connection->last_heard > kMissedHeartbeats * options_.heartbeat_interval) {
          silent.push_back(e.connection);
        }
      }
      for (const auto& [id, held] : *runs) {
        Entry& e = workers_[id];
        if (e.local_port || e.connection) continue;
        const absl::Time since = std::max(e.disconnected_at, started_at_);
        if (!e.declared_lost && now - since >= options_.grace) {
          e.declared_lost = true;
          e.pending_cancels.clear();
          // Whole seconds: "15s", not "15.405585114s".
          lost.push_back({id,
                          absl::StrCat("lost: worker ", id, " was silent from ",
                                       FormatIsoTime(since, absl::UTCTimeZone()), " for ",
                                       absl::FormatDuration(absl::Trunc(now - since,
                                                                        absl::Seconds(1)))),
                          since});
        }
      }
    }
    for (auto& conn : silent) conn->context->TryCancel();
    // A message at least every heartbeat interval, so that a worker can tell a master that is
    // gone (or cut off) from a quiet one, and fence itself in time (Registered.lost_after_ms).
    if (now - last_keepalive >= options_.heartbeat_interval) {
      last_keepalive = now;
      std::vector<std::shared_ptr<Connection>> open;
      {
        std::lock_guard lock(mu_);
        for (auto& [id, e] : workers_) {
          if (e.connection) open.push_back(e.connection);
        }
      }
      for (auto& conn : open) {
        v1::MasterMessage keepalive;
        keepalive.mutable_ack();  // an Ack of nothing
        Send(*conn, std::move(keepalive));
      }
    }
    for (const Lost& l : lost) {
      spdlog::warn("{}; its runs are retried per their jobs' policies", l.reason);
      engine_->WorkerLost(l.worker, l.reason, l.last_seen);
    }
  }
}

void WorkerHub::Send(Connection& conn, v1::MasterMessage msg) {
  {
    std::lock_guard lock(conn.mu);
    if (conn.closed) return;
    conn.out.push_back(std::move(msg));
  }
  conn.cv.notify_one();
}

void WorkerHub::Dispatch(const std::string& worker, const core::DispatchOrder& order) {
  std::shared_ptr<Connection> conn;
  core::WorkerPort* local = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(worker);
    if (it == workers_.end()) return;
    local = it->second.local_port;
    conn = it->second.connection;
  }
  if (local) return local->Dispatch(worker, order);
  // Not connected: the run stays on the worker in the scheduler's view; when the worker comes
  // back without it, ReattachWorker puts it back in the queue.
  if (!conn) return;
  v1::MasterMessage msg;
  *msg.mutable_dispatch() = rpc::ToProto(order, options_.term);
  Send(*conn, std::move(msg));
}

void WorkerHub::Cancel(const std::string& worker, core::RunId run) {
  std::shared_ptr<Connection> conn;
  core::WorkerPort* local = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(worker);
    if (it == workers_.end()) return;
    local = it->second.local_port;
    conn = it->second.connection;
    if (!local && !conn) it->second.pending_cancels.insert(run);
  }
  if (local) return local->Cancel(worker, run);
  if (!conn) return;
  v1::MasterMessage msg;
  msg.mutable_cancel()->set_run_id(run);
  Send(*conn, std::move(msg));
}

std::vector<WorkerInfo> WorkerHub::ListWorkers() const {
  std::lock_guard lock(mu_);
  std::vector<WorkerInfo> out;
  for (const auto& [id, e] : workers_) {
    if (!e.info.id.empty()) out.push_back(e.info);
  }
  return out;
}

std::vector<MetricsSample> WorkerHub::MetricsSince(const std::string& id, absl::Time since) const {
  std::lock_guard lock(mu_);
  std::vector<MetricsSample> out;
  auto it = workers_.find(id);
  if (it == workers_.end()) return out;
  for (const MetricsSample& s : it->second.history) {
    if (s.at > since) out.push_back(s);
  }
  return out;
}

absl::StatusOr<std::map<std::string, core::WorkerRuns>> WorkerHub::RunsByWorker() {
  return engine_->RunsByWorker();
}

absl::Status WorkerHub::SetDraining(const std::string& id, bool draining) {
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(id);
    if (it == workers_.end() || it->second.info.id.empty()) {
      return absl::NotFoundError(absl::StrCat("no worker '", id, "'"));
    }
    it->second.info.draining = draining;
  }
  return engine_->SetWorkerDraining(id, draining);
}

}  // namespace hera::master
