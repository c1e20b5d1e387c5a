#include "worker_command.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cluster_token.h"
#include "common/clock.h"
#include "exec/ledger_guard.h"
#include "worker/agent.h"
#include "worker/worker_identity.h"

namespace hera {
namespace {

struct WorkerFlags {
  std::vector<std::string> masters;
  std::vector<std::string> host_groups = {"default"};
  int slots = 8;
  std::string data_dir = "./hera-worker";
  std::string token_file;
  std::string tls_ca_file;
  std::string id;
  int kill_grace_s = 5;
  std::string yarn_kill = exec::KillCommands().yarn;
  std::string mapred_kill = exec::KillCommands().mapred;
  std::string hdfs_get = worker::FetchOptions().hdfs_get;
  int download_timeout_s = 600;
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "hera worker: %s\n", std::string(status.message()).c_str());
  return 1;
}

int RunWorker(const WorkerFlags& flags) {
  // Signals are taken by sigwait() below; every thread created from here inherits the mask
  // (job processes get a clean mask from exec).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::string> token = ReadTokenFile(flags.token_file);
  if (!token.ok()) return Fail(token.status());
  std::error_code ec;
  std::filesystem::create_directories(flags.data_dir, ec);
  // Its runs' scripts, logs and results are the worker's user's: others may only pass through
  // (0711, no listing) to the work directory handed to the user a job runs as (hera.run_as).
  if (!ec) {
    namespace fs = std::filesystem;
    fs::permissions(flags.data_dir,
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::replace, ec);
  }
  if (ec) {
    return Fail(absl::InternalError(
        absl::StrCat("cannot create the data directory ", flags.data_dir, ": ", ec.message())));
  }
  // The lock first: the guard kills what the ledger in this directory records, which must be
  // ours. The guard next, while this process has one thread (it forks), so that even a
  // kill -9 of this worker takes its job processes with it.
  absl::StatusOr<UniqueFd> lock = worker::LockWorkerDataDir(flags.data_dir);
  if (!lock.ok()) return Fail(lock.status());
  if (absl::Status st = exec::StartLedgerGuard(flags.data_dir + "/ledger"); !st.ok()) {
    return Fail(st);
  }

  worker::AgentOptions options;
  options.masters = flags.masters;
  options.host_groups = flags.host_groups;
  options.slots = flags.slots;
  options.data_dir = flags.data_dir;
  options.data_dir_locked = true;
  options.token = *std::move(token);
  options.tls_ca_file = flags.tls_ca_file;
  options.id = flags.id;
  options.kill_grace = absl::Seconds(flags.kill_grace_s);
  options.kill_commands.yarn = flags.yarn_kill;
  options.kill_commands.mapred = flags.mapred_kill;
  options.fetch.hdfs_get = flags.hdfs_get;
  options.fetch.timeout = absl::Seconds(flags.download_timeout_s);
  RealClock clock;
  absl::StatusOr<std::unique_ptr<worker::WorkerAgent>> agent =
      worker::WorkerAgent::Create(std::move(options), &clock);
  if (!agent.ok()) return Fail(agent.status());
  spdlog::info("worker {} starting: masters {}, host groups {}, {} slots, data in {}",
               (*agent)->id(), absl::StrJoin(flags.masters, ","),
               absl::StrJoin(flags.host_groups, ","), flags.slots, flags.data_dir);

  absl::Status run_status;
  std::thread runner([&] { run_status = (*agent)->Run(); });
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{} received: stopping (running jobs are killed; their results are reported "
               "at the next start)",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*agent)->Stop();
  runner.join();
  if (!run_status.ok()) return Fail(run_status);
  return 0;
}

}  // namespace

void AddWorkerCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<WorkerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "worker", "a worker node: runs the jobs a master (`hera server`) dispatches to it");
  cmd->add_option("--master", flags->masters, "master addresses host:port, tried in turn")
      ->delimiter(',')
      ->required();
  cmd->add_option("--host-groups", flags->host_groups, "host groups this machine belongs to")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--slots", flags->slots, "runs at once on this machine")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--data-dir", flags->data_dir,
                  "work dirs, result outbox, process ledger and worker id")
      ->capture_default_str();
  cmd->add_option("--token-file", flags->token_file, "file holding the cluster token")
      ->required();
  cmd->add_option("--tls-ca", flags->tls_ca_file,
                  "connect with TLS, trusting this PEM CA certificate (default: plaintext)");
  cmd->add_option("--id", flags->id,
                  "the worker's name (default: <hostname>-<random>, kept in DIR/worker_id)");
  cmd->add_option("--kill-grace", flags->kill_grace_s,
                  "seconds between SIGTERM and SIGKILL on cancel and timeout")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  cmd->add_option("--yarn-kill", flags->yarn_kill,
                  "command that kills a YARN application (its id is appended)")
      ->capture_default_str();
  cmd->add_option("--mapred-kill", flags->mapred_kill,
                  "command that kills a MapReduce job (its id is appended)")
      ->capture_default_str();
  cmd->add_option("--hdfs-get", flags->hdfs_get,
                  "command fetching download[hdfs://...] files (URI and destination appended)")
      ->capture_default_str();
  cmd->add_option("--download-timeout", flags->download_timeout_s,
                  "seconds each download[...] of a run may take before the run fails")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->callback([flags, exit_code] { *exit_code = RunWorker(*flags); });
}

}  // namespace hera
