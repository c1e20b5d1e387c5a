#pragma once
// The master's end of the worker protocol (proto/hera/v1/worker.proto, DESIGN.md §6): one gRPC
// stream per remote worker. It checks the cluster token, registers workers with the engine
// (reattaching the runs they still hold), forwards their reports, sends them orders, keeps the
// registry with metrics history for the API, and declares silent workers lost after the grace.
// It is also the engine's core::WorkerPort: orders for an in-process worker go straight to it.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "core/ports.h"
#include "core/scheduler.h"
#include "core/store.h"
#include "core/worker_directory.h"
#include "hera/v1/worker.grpc.pb.h"
#include "master/engine.h"
#include "master/log_store.h"

namespace hera::master {

struct WorkerHubOptions {
  std::string token;                               // required on every stream
  uint64_t term = 1;                               // stamped on every dispatch
  absl::Duration heartbeat_interval = absl::Seconds(2);
  absl::Duration grace = absl::Seconds(30);        // silent this long: the worker is lost
  absl::Duration metrics_history = absl::Hours(1);  // kept in memory for the Machines page
};

using core::MetricsSample;
using core::WorkerInfo;

class WorkerHub final : public hera::v1::WorkerService::Service,
                        public core::WorkerPort,
                        public core::WorkerDirectory {
 public:
  // `store`, `clock` and `logs` must outlive the hub. Attach the engine before serving.
  WorkerHub(WorkerHubOptions options, core::Store* store, const Clock* clock, LogStore* logs);
  ~WorkerHub() override;

  // The engine to report to; call once, before the gRPC server starts.
  void Attach(Engine* engine) { engine_ = engine; }
  // The master's HTTP base URL, sent to every worker in Registered.resource_url (hera://
  // downloads); call before the gRPC server starts.
  void SetResourceUrl(std::string url) { resource_url_ = std::move(url); }
  // An in-process worker: orders for `id` go to `port`, with no stream.
  void AddLocalWorker(const core::WorkerSlots& worker, core::WorkerPort* port);
  // Loads the known host groups, tells the engine, and starts the thread that declares
  // silent workers lost.
  absl::Status Start();
  // Stops that thread and ends every stream. Idempotent.
  void Stop();

  // core::WorkerDirectory
  std::vector<WorkerInfo> ListWorkers() const override;
  std::vector<MetricsSample> MetricsSince(const std::string& id, absl::Time since) const override;
  absl::Status SetDraining(const std::string& id, bool draining) override;
  absl::StatusOr<std::map<std::string, core::WorkerRuns>> RunsByWorker() override;

  // hera::v1::WorkerService
  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<hera::v1::MasterMessage, hera::v1::WorkerMessage>* stream) override;

  // core::WorkerPort (engine thread; never blocks on the network)
  void Dispatch(const std::string& worker, const core::DispatchOrder& order) override;
  void Cancel(const std::string& worker, core::RunId run) override;

 private:
  struct Connection;
  struct Entry {
    WorkerInfo info;
    core::WorkerPort* local_port = nullptr;
    std::shared_ptr<Connection> connection;  // null while disconnected
    absl::Time disconnected_at = absl::InfinitePast();
    bool declared_lost = false;
    std::set<core::RunId> pending_cancels;  // re-sent when it comes back
    std::deque<MetricsSample> history;
  };

  bool TokenMatches(const grpc::ServerContext& context) const;
  // Registers the worker of `reg`; returns its connection, or an error status to end with.
  grpc::Status Register(const hera::v1::Register& reg, grpc::ServerContext* context,
                        std::shared_ptr<Connection>* out);
  void HandleMessage(const std::string& worker, Connection& conn,
                     const hera::v1::WorkerMessage& msg);
  void Disconnected(const std::string& worker, const std::shared_ptr<Connection>& conn);
  void WatchLoop();
  void Send(Connection& conn, hera::v1::MasterMessage msg);

  const WorkerHubOptions options_;
  core::Store* const store_;
  const Clock* const clock_;
  LogStore* const logs_;
  Engine* engine_ = nullptr;
  std::string resource_url_;  // set before serving, read-only after
  const absl::Time started_at_;

  mutable std::mutex mu_;
  std::map<std::string, Entry> workers_;  // guarded by mu_
  std::set<std::string> host_groups_;     // guarded by mu_: every group a worker declared
  bool stopping_ = false;                 // guarded by mu_
  std::condition_variable stop_cv_;
  std::thread watcher_;
};

}  // namespace hera::master
