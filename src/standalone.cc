#include "standalone.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "api/api_service.h"
#include "api/auth.h"
#include "api/http_server.h"
#include "common/clock.h"
#include "common/unique_fd.h"
#include "master/engine.h"
#include "master/log_store.h"
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
    // The gRPC port is null until remote workers have a server to connect to.
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

  const std::string dir = options.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message())));
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
  const char* admin_password = std::getenv("HERA_ADMIN_PASSWORD");
  auto generated = (*auth)->EnsureAdmin(admin_password ? admin_password : "");
  if (!generated.ok()) return Fail(generated.status());
  auto logs = master::LogStore::Open(dir + "/logs");
  if (!logs.ok()) return Fail(logs.status());

  worker::LocalWorkerOptions worker_options;
  worker_options.data_dir = dir + "/worker";
  worker_options.slots = options.slots;
  worker_options.kill_grace = absl::Seconds(options.kill_grace_s);
  auto worker = worker::LocalWorker::Create(worker_options, &clock);
  if (!worker.ok()) return Fail(worker.status());
  for (int64_t run : (*worker)->leftovers()) {
    spdlog::warn("killed the processes of run {} left over by a previous crash", run);
  }

  master::Engine engine(store->get(), logs->get(), worker->get(), &clock, absl::LocalTimeZone());
  (*worker)->Attach(&engine);
  if (auto st = engine.Start({(*worker)->id()}); !st.ok()) return Fail(st);
  // Prefetch as many runs as there are slots: a finished run's slot is refilled by the worker
  // itself, without waiting for the engine's next tick.
  engine.AddWorker({(*worker)->id(), (*worker)->slots(), (*worker)->slots(), {"default"}});
  engine.SetKnownHostGroups({"default"});

  api::ApiContext ctx;
  ctx.store = store->get();
  ctx.engine = &engine;
  ctx.logs = logs->get();
  ctx.auth = auth->get();
  ctx.tz = absl::LocalTimeZone();
  api::HttpServerOptions http_options;
  http_options.bind_address = options.bind_address;
  http_options.port = options.http_port;
  auto http = api::HttpServer::Listen(http_options, api::MakeApiHandler(ctx));
  if (!http.ok()) return Fail(http.status());
  (*http)->Start();
  if (auto st = WritePorts(dir, (*http)->port(), 0); !st.ok()) return Fail(st);

  std::printf("Hera is running at http://127.0.0.1:%d (data in %s)\n", (*http)->port(),
              dir.c_str());
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
  // as cancelled), apply what is pending, close the store.
  (*http)->Stop();
  engine.BeginShutdown();
  (*worker)->Shutdown();
  engine.Stop();
  std::filesystem::remove(dir + "/ports.json", ec);
  return 0;
}

}  // namespace hera
