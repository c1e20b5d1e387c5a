#pragma once
// What the API may know and do about workers (the Machines page, `hera ctl worker`): a port
// implemented by the master's worker hub, so api/ does not depend on master/.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/scheduler.h"

namespace hera::core {

// A worker as the API shows it.
struct WorkerInfo {
  std::string id;
  std::string host;
  std::vector<std::string> host_groups;
  int slots = 0;
  bool local = false;  // the master's in-process worker
  bool connected = false;
  bool draining = false;
  std::string version;
  absl::Time registered_at = absl::UnixEpoch();
  absl::Time last_heartbeat = absl::UnixEpoch();
  std::optional<WorkerMetrics> metrics;
};

struct MetricsSample {
  absl::Time at;
  WorkerMetrics metrics;
};

class WorkerDirectory {
 public:
  virtual ~WorkerDirectory() = default;
  // Every worker that registered since the master started, by id.
  virtual std::vector<WorkerInfo> ListWorkers() const = 0;
  // Heartbeat metrics of worker `id` after `since`, oldest first (kept in memory for an hour).
  virtual std::vector<MetricsSample> MetricsSince(const std::string& id,
                                                  absl::Time since) const = 0;
  // Drain: the worker takes nothing new and finishes what it runs. NotFound for unknown ids.
  virtual absl::Status SetDraining(const std::string& id, bool draining) = 0;
  // The runs each worker holds (running, and dispatched but not started).
  virtual absl::StatusOr<std::map<std::string, WorkerRuns>> RunsByWorker() = 0;
};

}  // namespace hera::core
