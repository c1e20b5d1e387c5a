// The `hera` binary: one executable, one subcommand per role (DESIGN.md §1).

#include <CLI/CLI.hpp>

#include "cli/cron_command.h"
#include "cli/ctl_command.h"
#include "standalone.h"

int main(int argc, char** argv) {
  CLI::App app{"Hera: a distributed task scheduler for data platforms"};
  app.require_subcommand(1);

  hera::StandaloneOptions standalone;
  CLI::App* sa = app.add_subcommand(
      "standalone", "master + worker + web API in one process, on SQLite in the data directory");
  sa->add_option("--data-dir", standalone.data_dir, "where the database, logs and work dirs live")
      ->capture_default_str();
  sa->add_option("--bind", standalone.bind_address, "address the HTTP server listens on")
      ->capture_default_str();
  sa->add_option("--http-port", standalone.http_port, "HTTP port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sa->add_option("--grpc-port", standalone.grpc_port, "gRPC port for remote workers")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sa->add_option("--slots", standalone.slots, "runs at once on the in-process worker")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  sa->add_option("--kill-grace", standalone.kill_grace_s,
                 "seconds between SIGTERM and SIGKILL when a run is cancelled")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  int exit_code = 0;
  sa->callback([&] { exit_code = hera::RunStandalone(standalone); });

  hera::cli::AddCtlCommand(app);
  hera::cli::AddCronCommand(app);

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
