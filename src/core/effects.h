#pragma once
// What one engine step decided: the writes to commit, then the orders to send. The engine
// commits `batch` first and sends the orders only once it is durable.

#include <string>
#include <utility>
#include <vector>

#include "core/ports.h"
#include "core/store.h"

namespace hera::core {

struct Effects {
  WriteBatch batch;
  std::vector<std::pair<std::string, DispatchOrder>> dispatches;  // (worker, order)
  std::vector<std::pair<std::string, RunId>> cancels;             // (worker, run)
  std::vector<RunId> opened_logs;  // runs handed to a worker: their logs may start
  std::vector<RunId> closed_logs;  // runs that ended: their logs are complete
};

}  // namespace hera::core
