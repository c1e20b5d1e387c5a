#pragma once
// `hera standalone`: master, one in-process worker and the HTTP API in one process, on SQLite.

#include <string>

namespace hera {

struct StandaloneOptions {
  std::string data_dir = "./hera-data";
  std::string bind_address = "0.0.0.0";
  int http_port = 8080;  // 0: any free port (see <data_dir>/ports.json)
  int grpc_port = 9887;  // reserved for remote workers
  int slots = 8;         // runs at once on the in-process worker
  int kill_grace_s = 5;  // SIGTERM → SIGKILL on cancel, timeout and shutdown
};

// Runs until SIGTERM or SIGINT; returns the process exit code.
int RunStandalone(const StandaloneOptions& options);

}  // namespace hera
