#include "standalone.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cluster_token.h"
#include "api/api_service.h"
#include "api/auth.h"
#include "api/http_server.h"
#include "common/clock.h"
#include "common/fd_limit.h"
#include "common/unique_fd.h"
#include "master/engine.h"
#include "master/command_table.h"
#include "master/log_store.h"
#include "master/resource_store.h"
#include "master/retention.h"
#include "master/secret_box.h"
#include "master/worker_hub.h"
#include "store/sqlite/sqlite_store.h"
#include "worker/local_worker.h"

namespace hera {
namespace {

// Holds an exclusive lock on <dir>/hera.lock for the life of the process, so that two
// processes never share a data directory. The kernel drops the lock if the process dies.
absl::StatusOr<UniqueFd> LockDataDir(const std::string& dir) {
  const std::string path = dir + "/hera.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return absl::InternalError(absl::StrCat("cannot open ", path));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    (void)!::pread(fd.get(), pid, sizeof pid - 1, 0);
    return absl::FailedPreconditionError(
        absl::StrCat("another hera process (pid ", absl::StripAsciiWhitespace(pid),
                     ") is using the data directory ", dir, "; stop it or pick another --data-dir"));
  }
  const std::string me = absl::StrCat(::getpid(), "\n");
  (void)!::ftruncate(fd.get(), 0);
  (void)!::pwrite(fd.get(), me.data(), me.size(), 0);
  return fd;
}

// Writes <dir>/ports.json atomically (tests and scripts wait for it).
absl::Status WritePorts(const std::string& dir, int http, int grpc) {
  const std::string tmp = dir + "/ports.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    // The gRPC port is null when the node serves no remote workers (standalone).
    out << nlohmann::json{{"http", http}, {"grpc", grpc > 0 ? nlohmann::json(grpc) : nullptr}}
               .dump()
        << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, dir + "/ports.json", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot write ports.json: ", ec.message()));
  return absl::OkStatus();
}

// One more than the term of the previous start, kept in <dir>/term.
absl::StatusOr<uint64_t> NextTerm(const std::string& dir) {
  const std::string path = dir + "/term";
  uint64_t term = 0;
  {
    std::ifstream in(path);
    if (in) in >> term;
  }
  ++term;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << term << "\n";
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot write ", path, ": ", ec.message()));
  return term;
}

std::string ReadFileOr(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = absl::StrCat("cannot read ", path);
    return "";
  }
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Plaintext, or TLS with the given certificate and key (both or neither).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const StandaloneOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (options.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  std::string error;
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({ReadFileOr(options.tls_key_file, &error),
                                    ReadFileOr(options.tls_cert_file, &error)});
  if (!error.empty()) return absl::NotFoundError(error);
  return grpc::SslServerCredentials(ssl);
}

// Multipart framing around an upload: boundaries, part headers, a `name` field.
constexpr size_t kUploadSlackBytes = 64 * 1024;

// http://<bind>:<port>; a wildcard bind stays one, and each worker puts in the host it reached
// the master at (worker/fetch_downloads.h ResolveResourceUrl).
std::string DefaultResourceUrl(const std::string& bind, int port) {
  const bool v6 = bind.find(':') != std::string::npos;
  return absl::StrCat("http://", v6 ? "[" : "", bind, v6 ? "]" : "", ":", port);
}

worker::FetchOptions FetchOptionsOf(const StandaloneOptions& options) {
  worker::FetchOptions fetch;
  fetch.hdfs_get = options.hdfs_get;
  fetch.timeout = absl::Seconds(options.download_timeout_s);
  return fetch;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "hera: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int RunStandalone(const StandaloneOptions& options) {
  // Signals are taken by sigwait() below; every thread created from here inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up is an error code, not a crash
  // Every HTTP connection holds a descriptor: take all the kernel allows this process.
  const int64_t max_files = RaiseOpenFileLimit();
  spdlog::info("open files: up to {} (RLIMIT_NOFILE)",
               max_files < 0 ? std::string("unlimited") : std::to_string(max_files));

  const std::string dir = options.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message())));
  // It holds password and token hashes, sealed secrets, the secrets key and every log: its
  // owner's alone (0700), whatever the umask made of it. With --allow-run-as, others may pass
  // through it (0711, no listing) to the work directory handed to the user a job runs as.
  namespace fs = std::filesystem;
  const fs::perms mode = options.allow_run_as ? fs::perms::owner_all | fs::perms::group_exec |
                                                    fs::perms::others_exec
                                              : fs::perms::owner_all;
  fs::permissions(dir, mode, fs::perm_options::replace, ec);
  if (ec) return Fail(absl::InternalError(absl::StrCat("cannot chmod ", dir, ": ", ec.message())));
  auto lock = LockDataDir(dir);
  if (!lock.ok()) return Fail(lock.status());
  std::filesystem::remove(dir + "/ports.json", ec);

  RealClock clock;
  store::SqliteOptions store_options;
  store_options.path = dir + "/hera.db";
  auto store = store::SqliteStore::Open(store_options);
  if (!store.ok()) return Fail(store.status());
  auto auth = api::Auth::Create(store->get(), &clock);
  if (!auth.ok()) return Fail(auth.status());
  // Jobs inherit this process's environment and may read /proc/<pid>/environ: neither may show
  // the admin's password. getenv() points into the environment block /proc shows, so the value
  // is wiped there, then the variable goes. (No other thread runs yet: changing the environment
  // is safe here.)
  std::string admin_password;
  if (char* from_env = std::getenv("HERA_ADMIN_PASSWORD")) {
    admin_password = from_env;
    ::explicit_bzero(from_env, admin_password.size());
    ::unsetenv("HERA_ADMIN_PASSWORD");
  }
  auto generated = (*auth)->EnsureAdmin(admin_password);
  if (!generated.ok()) return Fail(generated.status());
  auto logs = master::LogStore::Open(dir + "/logs");
  if (!logs.ok()) return Fail(logs.status());
  master::DiskGuardOptions disk_options;
  disk_options.path = dir;
  disk_options.reserve_bytes = options.min_free_disk_mb << 20;
  master::DiskGuard disk(disk_options, &clock);
  (*logs)->set_disk_guard(&disk);
  (*logs)->set_cap_bytes(options.log_cap_mb << 20);
  // The key secret.* configs are encrypted with; created at first start.
  auto secrets = master::SecretBox::LoadOrCreate(dir + "/secret.key");
  if (!secrets.ok()) return Fail(secrets.status());

  // Checked before anything starts: a typo in a template is an error now, not a failed run later.
  auto templates = master::CommandTable::FromFlags(options.commands);
  if (!templates.ok()) return Fail(templates.status());
  for (const std::string& command : options.commands) spdlog::info("job command: {}", command);
  if (options.allow_run_as) spdlog::info("jobs may run as other users (hera.run_as, via sudo)");

  // `hera server`: the cluster token and the master's term (one more than the last start:
  // a worker refuses orders from an older term).
  std::string token;
  uint64_t term = 1;
  if (options.serve_workers) {
    auto read = ReadTokenFile(options.token_file);
    if (!read.ok()) return Fail(read.status());
    token = *read;
    auto next = NextTerm(dir);
    if (!next.ok()) return Fail(next.status());
    term = *next;
  }

  // Files uploaded for download[hera://...] lines.
  master::ResourceStoreOptions resource_options;
  resource_options.dir = dir + "/resources";
  resource_options.max_bytes = options.max_upload_mb << 20;
  auto resources = master::ResourceStore::Open(resource_options, &clock);
  if (!resources.ok()) return Fail(resources.status());

  std::unique_ptr<worker::LocalWorker> local;
  if (options.slots > 0) {
    worker::LocalWorkerOptions worker_options;
    worker_options.data_dir = dir + "/worker";
    worker_options.slots = options.slots;
    worker_options.kill_grace = absl::Seconds(options.kill_grace_s);
    worker_options.fetch = FetchOptionsOf(options);
    // hera:// straight from this process's store: no HTTP, no token.
    worker_options.fetch.open_resource = [store = resources->get()](
                                             const std::string& name,
                                             int64_t version) -> absl::StatusOr<UniqueFd> {
      absl::StatusOr<core::ResourceContent> content = store->Open(name, version);
      if (!content.ok()) return content.status();
      return std::move(content->fd);
    };
    auto worker = worker::LocalWorker::Create(worker_options, &clock);
    if (!worker.ok()) return Fail(worker.status());
    local = *std::move(worker);
    for (int64_t run : local->leftovers()) {
      spdlog::warn("killed the processes of run {} left over by a previous crash", run);
    }
  }

  master::WorkerHubOptions hub_options;
  hub_options.token = token;
  hub_options.term = term;
  hub_options.grace = absl::Seconds(options.worker_grace_s);
  master::WorkerHub hub(hub_options, store->get(), &clock, logs->get());
  master::Engine engine(store->get(), logs->get(), &hub, &clock, absl::LocalTimeZone(),
                        &*secrets, {*std::move(templates), options.allow_run_as});
  hub.Attach(&engine);
  engine.set_disk_guard(&disk);
  std::vector<std::string> local_ids;
  if (local) {
    local->Attach(&engine);
    local_ids.push_back(local->id());
    // Prefetch as many runs as there are slots (twice that while its runs are short, see
    // core::Scheduler): a finished run's slot is refilled by the worker itself, without
    // waiting for the engine's next tick.
    core::WorkerSlots slots{local->id(), local->slots(), local->slots(), options.host_groups};
    hub.AddLocalWorker(slots, local.get());
    engine.AddWorker(slots);
  }
  std::vector<core::RunId> spawned;
  if (local) spawned.assign(local->leftovers().begin(), local->leftovers().end());
  if (auto st = engine.Start(local_ids, spawned); !st.ok()) return Fail(st);
  if (local) local->ForgetLeftovers();  // their runs are stored as lost (or ended) now
  // However this function returns from here on, the worker's runs end and are recorded before
  // the engine goes: the worker reports to the engine until it has stopped.
  absl::Cleanup stop_in_order = [&] {
    engine.BeginShutdown();
    if (local) local->Shutdown();
    engine.Stop();
  };
  // Old history goes in the background, so the disk never fills by itself.
  std::optional<master::Retention> retention;
  if (options.retention_days > 0) {
    master::RetentionOptions retention_options;
    retention_options.keep = absl::Hours(24) * options.retention_days;
    if (local) retention_options.work_dir = dir + "/worker/work";
    retention.emplace(retention_options, store->get(), logs->get(), resources->get(), &clock);
    retention->Start();
    spdlog::info("retention: runs, logs, work directories and old resource versions are kept "
                 "{} days",
                 options.retention_days);
  }
  core::DispatchLimits limits;
  limits.max_memory_fraction = options.max_memory_percent / 100.0;
  limits.max_load_per_core = options.max_load_per_core;
  limits.max_in_flight = options.max_in_flight;
  limits.round_robin = options.dispatch == "round-robin";
  engine.SetDispatchLimits(limits);
  if (auto st = hub.Start(); !st.ok()) return Fail(st);

  // HTTP before gRPC: workers are told the HTTP address (for hera:// downloads) as they
  // register, so it must be known by then.
  api::ApiContext ctx;
  ctx.store = store->get();
  ctx.engine = &engine;
  ctx.workers = &hub;
  ctx.logs = logs->get();
  ctx.auth = auth->get();
  ctx.tz = absl::LocalTimeZone();
  ctx.resources = resources->get();
  ctx.cluster_token = token;
  ctx.disk_full = [&disk] { return disk.Why(); };
  api::HttpServerOptions http_options;
  http_options.bind_address = options.bind_address;
  http_options.port = options.http_port;
  http_options.max_connections = options.http_max_connections;
  http_options.max_connections_per_address = options.http_max_connections_per_ip;
  http_options.header_timeout = absl::Seconds(options.http_header_timeout_s);
  http_options.handler_threads = options.http_handler_threads;
  // Uploads may be as large as the store takes, plus room for the multipart framing.
  http_options.body_limits["POST /api/v1/resources"] = {
      static_cast<size_t>((*resources)->max_bytes()) + kUploadSlackBytes,
      absl::StrCat("the upload is larger than the upload limit of ", (*resources)->max_bytes(),
                   " bytes (hera --max-upload-mb)")};
  auto http = api::HttpServer::Listen(http_options, api::MakeApiHandler(ctx));
  if (!http.ok()) return Fail(http.status());
  (*http)->Start();
  hub.SetResourceUrl(options.advertise_url.empty()
                         ? DefaultResourceUrl(options.bind_address, (*http)->port())
                         : options.advertise_url);

  std::unique_ptr<grpc::Server> grpc_server;
  int grpc_port = 0;
  if (options.serve_workers) {
    auto creds = ServerCredentials(options);
    if (!creds.ok()) return Fail(creds.status());
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat(options.bind_address, ":", options.grpc_port), *creds,
                             &grpc_port);
    builder.RegisterService(&hub);
    // Workers ping every 10 s to notice a dead connection; accept that instead of answering
    // with GOAWAY (gRPC's default minimum is 5 minutes between pings on a quiet stream).
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    grpc_server = builder.BuildAndStart();
    if (!grpc_server || grpc_port == 0) {
      return Fail(absl::UnavailableError(absl::StrCat(
          "cannot listen for workers on ", options.bind_address, ":", options.grpc_port)));
    }
    spdlog::info("serving workers on port {} (term {}{})", grpc_port, term,
                 options.tls_cert_file.empty() ? "" : ", TLS");
  }

  if (auto st = WritePorts(dir, (*http)->port(), grpc_port); !st.ok()) return Fail(st);

  // What it listens on, as it is: a wildcard address is every interface, not 127.0.0.1.
  const bool wildcard = options.bind_address == "0.0.0.0" || options.bind_address == "::";
  const std::string host = options.bind_address.find(':') != std::string::npos
                               ? absl::StrCat("[", options.bind_address, "]")
                               : options.bind_address;
  if (wildcard) {
    std::printf("Hera is listening on %s:%d, every interface: open http://127.0.0.1:%d here, or "
                "this machine's name elsewhere (data in %s)\n",
                host.c_str(), (*http)->port(), (*http)->port(), dir.c_str());
  } else {
    std::printf("Hera is running at http://%s:%d (data in %s)\n", host.c_str(), (*http)->port(),
                dir.c_str());
  }
  if (generated->has_value()) {
    std::printf("Log in as admin with the password %s (shown once; set HERA_ADMIN_PASSWORD "
                "to choose it)\n",
                generated->value().c_str());
  } else {
    std::printf("Log in as admin\n");
  }
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{} received: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");

  // Reverse order of start: no new requests, no new dispatch, kill what runs (each recorded
  // as cancelled), apply what is pending, close the store. A commit failing now (a full disk)
  // is not retried, so the requests waiting on it end and the HTTP server can stop.
  engine.StopRetrying();
  (*http)->Stop();
  // Workers keep their runs when the master goes: they reconnect to the next one.
  hub.Stop();
  if (grpc_server) grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::move(stop_in_order).Invoke();
  std::filesystem::remove(dir + "/ports.json", ec);
  return 0;
}

}  // namespace hera
