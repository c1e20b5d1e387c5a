#pragma once
// `hera standalone`: master, one in-process worker and the HTTP API in one process, on SQLite.
// `hera server`: the same node, also serving remote workers (`hera worker`) over gRPC.

#include <cstdint>
#include <string>
#include <vector>

namespace hera {

struct StandaloneOptions {
  std::string data_dir = "./hera-data";
  std::string bind_address = "0.0.0.0";
  int http_port = 8080;  // 0: any free port (see <data_dir>/ports.json)
  int grpc_port = 9887;  // for remote workers (`hera server` only); 0: any free port
  int slots = 8;         // runs at once on the in-process worker (server: 0 = none)
  int kill_grace_s = 5;  // SIGTERM → SIGKILL on cancel, timeout and shutdown
  std::vector<std::string> host_groups = {"default"};  // of the in-process worker
  int64_t max_upload_mb = 100;  // the largest resource upload (POST /api/v1/resources)
  // download[hdfs://...]: this command with the URI and the destination appended.
  std::string hdfs_get = "hdfs dfs -get";
  int download_timeout_s = 600;  // each download of a run, before it starts
  // Below this much free space on the data directory's disk, requests that change state are
  // refused (507) and run logs are not stored, so the store keeps room to finish its work.
  int64_t min_free_disk_mb = 256;
  // Finished runs (with their logs and work directories) and resource versions (but the
  // latest of each) older than this are purged; 0 keeps everything.
  int retention_days = 30;
  // A run's stored log keeps at most this much, its first and last half (0: no cap).
  int64_t log_cap_mb = 64;
  // Job commands (SEMANTICS.md §7): --command values, "TYPE=TEMPLATE" or
  // "TYPE@HOSTGROUP=TEMPLATE" (master/command_table.h); none: the built-in templates.
  std::vector<std::string> commands;
  bool allow_run_as = false;  // jobs may run as another Linux user (config hera.run_as, sudo)
  // HTTP limits (api::HttpServerOptions): open connections in all and per client IP address
  // (beyond: 503), seconds a request header may take, threads running request handlers.
  int http_max_connections = 10000;
  int http_max_connections_per_ip = 64;
  int http_header_timeout_s = 10;
  int http_handler_threads = 16;

  // `hera server` only.
  bool serve_workers = false;
  std::string token_file;  // the cluster token every worker stream must carry
  std::string tls_cert_file, tls_key_file;  // both set: workers connect over TLS
  // The HTTP base URL workers fetch hera:// resources from; empty: http://<bind>:<http port>,
  // a wildcard bind replaced by the host each worker reached the master at.
  std::string advertise_url;
  int worker_grace_s = 30;  // a worker silent this long is lost; its runs are retried
  // Dispatch limits (SEMANTICS.md §6): a worker above them takes nothing new.
  double max_memory_percent = 70;
  double max_load_per_core = 1.0;
  int max_in_flight = 0;  // runs on workers at once, cluster-wide; 0: no cap
  std::string dispatch = "least-loaded";  // or "round-robin"
};

// Runs until SIGTERM or SIGINT; returns the process exit code.
int RunStandalone(const StandaloneOptions& options);

}  // namespace hera
