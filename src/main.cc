// The `hera` binary: one executable, one subcommand per role (DESIGN.md §1).

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/cron_command.h"
#include "cli/ctl_command.h"
#include "standalone.h"
#include "worker_command.h"

namespace {

// After "A subcommand is required": if the words left over name a command that does not exist
// (`hera ctl foo`), says so with the commands there are, and returns true.
bool UnknownCommand(CLI::App& app) {
  CLI::App* at = &app;
  std::string path = "hera";
  for (;;) {
    const std::vector<CLI::App*> chosen = at->get_subcommands();
    if (chosen.empty()) break;
    at = chosen.front();
    path += " " + at->get_name();
  }
  const std::vector<std::string> rest = app.remaining(/*recurse=*/true);
  if (rest.empty() || rest.front().empty() || rest.front()[0] == '-') return false;
  std::string known;
  for (const CLI::App* sub : at->get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + sub->get_name();
  }
  std::fprintf(stderr, "'%s' is not a command of '%s' (its commands: %s)\nRun '%s --help' for "
               "more information.\n", rest.front().c_str(), path.c_str(), known.c_str(),
               path.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Hera: a distributed task scheduler for data platforms"};
  app.require_subcommand(1);

  // `standalone` and `server` share their flags; `server` adds the ones for remote workers.
  hera::StandaloneOptions standalone;
  hera::StandaloneOptions server;
  server.serve_workers = true;
  int exit_code = 0;
  auto add_node_flags = [](CLI::App* sa, hera::StandaloneOptions& o) {
    sa->add_option("--data-dir", o.data_dir, "where the database, logs and work dirs live")
        ->capture_default_str();
    sa->add_option("--bind", o.bind_address, "address the HTTP (and gRPC) server listens on")
        ->capture_default_str();
    sa->add_option("--max-upload-mb", o.max_upload_mb,
                   "largest resource upload (POST /api/v1/resources), in MiB")
        ->capture_default_str()
        ->check(CLI::Range(1, 1 << 20));
    sa->add_option("--hdfs-get", o.hdfs_get,
                   "command fetching download[hdfs://...] files (URI and destination appended)")
        ->capture_default_str();
    sa->add_option("--download-timeout", o.download_timeout_s,
                   "seconds each download[...] of a run may take before the run fails")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    sa->add_option("--http-port", o.http_port, "HTTP port (0: any free port)")
        ->capture_default_str()
        ->check(CLI::Range(0, 65535));
    sa->add_option("--grpc-port", o.grpc_port, "gRPC port for remote workers (0: any free port)")
        ->capture_default_str()
        ->check(CLI::Range(0, 65535));
    sa->add_option("--min-free-disk-mb", o.min_free_disk_mb,
                   "free space kept in reserve on the data directory's disk: below it, changes "
                   "are refused (507) and run logs are not stored")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
    sa->add_option("--retention-days", o.retention_days,
                   "finished runs with their logs and work directories, and resource versions "
                   "but the latest, are purged after this many days (0: kept forever)")
        ->capture_default_str()
        ->check(CLI::Range(0, 36500));
    sa->add_option("--log-cap-mb", o.log_cap_mb,
                   "a run's stored log keeps at most this many MiB: its first and last half, "
                   "with a notice where the middle was dropped (0: no cap)")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
    sa->add_option("--kill-grace", o.kill_grace_s,
                   "seconds between SIGTERM and SIGKILL when a run is cancelled")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    sa->add_option("--command", o.commands,
                   "TYPE=TEMPLATE or TYPE@HOSTGROUP=TEMPLATE: the command a job type runs "
                   "with, e.g. 'spark_sql=spark-sql {spark_conf} -f {script}' (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sa->add_flag("--allow-run-as", o.allow_run_as,
                 "let jobs run as the Linux user their config hera.run_as names (sudo -n -u)");
    sa->add_option("--http-max-connections", o.http_max_connections,
                   "open HTTP connections in all; beyond, new ones are answered 503")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    sa->add_option("--http-max-connections-per-ip", o.http_max_connections_per_ip,
                   "open HTTP connections from one client IP address; beyond, 503")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    sa->add_option("--http-header-timeout", o.http_header_timeout_s,
                   "seconds a client may take to send a whole request header")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    sa->add_option("--http-handler-threads", o.http_handler_threads,
                   "threads serving HTTP requests (more requests wait their turn)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
  };
  CLI::App* sa = app.add_subcommand(
      "standalone", "master + worker + web API in one process, on SQLite in the data directory");
  add_node_flags(sa, standalone);
  sa->add_option("--slots", standalone.slots, "runs at once on the in-process worker")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  sa->callback([&] { exit_code = hera::RunStandalone(standalone); });

  CLI::App* sv = app.add_subcommand(
      "server", "a master node: standalone, plus remote workers (`hera worker`) over gRPC");
  add_node_flags(sv, server);
  sv->add_option("--slots", server.slots, "runs at once on the in-process worker (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  sv->add_option("--host-groups", server.host_groups, "host groups of the in-process worker")
      ->delimiter(',')
      ->capture_default_str();
  sv->add_option("--token-file", server.token_file,
                 "file holding the cluster token every worker must present")
      ->required();
  sv->add_option("--tls-cert", server.tls_cert_file, "PEM certificate for TLS to workers");
  sv->add_option("--tls-key", server.tls_key_file, "PEM private key for TLS to workers");
  sv->add_option("--advertise-url", server.advertise_url,
                 "HTTP base URL workers fetch hera:// resources from (default: "
                 "http://<bind>:<http port>, a wildcard bind replaced by the master's host as "
                 "each worker reaches it)");
  sv->add_option("--worker-grace", server.worker_grace_s,
                 "seconds a worker may be silent before its runs are lost and retried")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  sv->add_option("--max-memory-percent", server.max_memory_percent,
                 "a worker using more memory than this takes nothing new")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 100.0));
  sv->add_option("--max-load-per-core", server.max_load_per_core,
                 "a worker whose 1-minute load per core is above this takes nothing new")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1000.0));
  sv->add_option("--max-in-flight", server.max_in_flight,
                 "runs on workers at once, cluster-wide (0: no cap)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  sv->add_option("--dispatch", server.dispatch, "how a worker is chosen among the eligible")
      ->capture_default_str()
      ->check(CLI::IsMember({"least-loaded", "round-robin"}));
  sv->callback([&] { exit_code = hera::RunStandalone(server); });

  hera::AddWorkerCommand(app, &exit_code);
  hera::cli::AddCtlCommand(app);
  hera::cli::AddCronCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    if (UnknownCommand(app)) return static_cast<int>(CLI::ExitCodes::ExtrasError);
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
