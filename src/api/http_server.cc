#include "api/http_server.h"

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/handler_pool.h"
#include "api/http_connection.h"
#include "common/thread_name.h"

namespace hera::api {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using ErrorCode = boost::system::error_code;

// Connections being answered 503 hold a descriptor for a moment too; beyond this many, a new
// one over a cap is closed without an answer.
constexpr int kMaxRefusing = 1000;
// After a failed accept (typically out of descriptors), the listening socket stays readable:
// pause rather than spin.
constexpr auto kAcceptPause = std::chrono::milliseconds(50);

}  // namespace

struct HttpServer::Impl {
  // Declared first: destroyed last, after every object that uses it.
  net::io_context io;
  HttpConnection::Shared shared;
  tcp::acceptor acceptor{net::make_strand(io)};
  net::steady_timer accept_pause{acceptor.get_executor()};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::unique_ptr<HandlerPool> pool;
  std::vector<std::thread> io_threads;
  std::atomic<bool> stopping{false};
  bool started = false;

  std::mutex mu;
  std::condition_variable all_gone;  // notified whenever a connection goes
  // Protected by mu:
  std::unordered_map<uint64_t, std::weak_ptr<HttpConnection>> open;  // served and refusing
  std::map<net::ip::address, int> per_address;  // served connections by client address
  int served = 0;
  int refusing = 0;
  uint64_t next_id = 1;
  int64_t refused_since_log = 0;
  absl::Time last_refusal_log = absl::InfinitePast();
  absl::Time last_accept_error_log = absl::InfinitePast();

  void Accept();
  void OnAccept(ErrorCode ec, tcp::socket socket);
  // Registers a connection from `address` (under mu); refusal says why if over a cap.
  std::shared_ptr<HttpConnection> AddLocked(tcp::socket socket, const net::ip::address& address,
                                            std::string* refusal);
  void LogRefusalLocked(const std::string& why);
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Listen(const HttpServerOptions& options,
                                                               HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->shared.options = options;
  impl->shared.handler = std::move(handler);
  ErrorCode ec;
  const auto address = net::ip::make_address(options.bind_address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad HTTP bind address '", options.bind_address, "': ", ec.message()));
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ",
                                               options.bind_address, ":", options.port, ": ",
                                               ec.message()));
  }
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
      files.rlim_cur < static_cast<rlim_t>(options.max_connections) + 256) {
    spdlog::warn(
        "HTTP: up to {} connections are allowed, but this process may open only {} files "
        "(RLIMIT_NOFILE): beyond that, connections wait in the listen queue",
        options.max_connections, files.rlim_cur);
  }
  const int port = impl->acceptor.local_endpoint().port();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port) : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start() {
  Impl& s = *impl_;
  if (s.started || s.stopping.load()) return;
  s.started = true;
  s.pool = std::make_unique<HandlerPool>(s.shared.options.handler_threads, "hera-http-work");
  s.shared.pool = s.pool.get();
  s.work.emplace(s.io.get_executor());
  for (int i = 0; i < std::max(1, s.shared.options.io_threads); ++i) {
    s.io_threads.emplace_back([&s] {
      NameCurrentThread("hera-http");
      s.io.run();
    });
  }
  net::post(s.acceptor.get_executor(), [&s] { s.Accept(); });
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  {
    // Under mu: an accept either registered its connection before (Stop closes it below) or
    // sees `stopping` and closes it itself.
    std::lock_guard lock(s.mu);
    if (s.stopping.exchange(true)) return;
  }
  if (!s.started) {
    ErrorCode ec;
    s.acceptor.close(ec);
    return;
  }
  std::promise<void> closed;
  net::post(s.acceptor.get_executor(), [&s, &closed] {
    ErrorCode ec;
    s.acceptor.close(ec);
    s.accept_pause.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<HttpConnection>> open;
  {
    std::lock_guard lock(s.mu);
    for (const auto& [id, weak] : s.open) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (const auto& c : open) c->Close();
  open.clear();
  // Connections go once their last operation has finished, a running handler included.
  {
    std::unique_lock lock(s.mu);
    s.all_gone.wait(lock, [&s] { return s.open.empty(); });
  }
  s.pool->Stop();
  s.work.reset();
  s.io.stop();
  for (auto& t : s.io_threads) t.join();
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(io), [this](ErrorCode ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(ErrorCode ec, tcp::socket socket) {
  if (stopping.load()) return;  // the socket closes as it goes
  if (ec) {
    {
      std::lock_guard lock(mu);
      if (absl::Now() - last_accept_error_log > absl::Seconds(10)) {
        last_accept_error_log = absl::Now();
        spdlog::warn("http accept: {} (pausing accepts briefly; open connections: {})",
                     ec.message(), served);
      }
    }
    accept_pause.expires_after(kAcceptPause);
    accept_pause.async_wait([this](ErrorCode wait_ec) {
      if (!wait_ec && !stopping.load()) Accept();
    });
    return;
  }
  ErrorCode peer_ec;
  const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
  if (!peer_ec) {
    std::shared_ptr<HttpConnection> conn;
    std::string refusal;
    {
      std::lock_guard lock(mu);
      if (!stopping.load()) conn = AddLocked(std::move(socket), peer.address(), &refusal);
    }
    if (conn && refusal.empty()) {
      conn->Start();
    } else if (conn) {
      conn->Refuse(503, "UNAVAILABLE", refusal);
    }
  }
  Accept();
}

std::shared_ptr<HttpConnection> HttpServer::Impl::AddLocked(tcp::socket socket,
                                                            const net::ip::address& address,
                                                            std::string* refusal) {
  const HttpServerOptions& o = shared.options;
  if (served >= o.max_connections) {
    *refusal = absl::StrCat("the server has ", served,
                            " connections open, its limit; try again later");
  } else if (auto it = per_address.find(address);
             it != per_address.end() && it->second >= o.max_connections_per_address) {
    *refusal = absl::StrCat("this client address (", address.to_string(), ") has ", it->second,
                            " connections open, the most one address may have; close some "
                            "and try again");
  }
  if (!refusal->empty()) {
    LogRefusalLocked(*refusal);
    if (refusing >= kMaxRefusing) return nullptr;  // closed unanswered as `socket` goes
  }
  const uint64_t id = next_id++;
  const bool serve = refusal->empty();
  auto gone = [this, id, address, serve] {
    std::lock_guard lock(mu);
    open.erase(id);
    if (!serve) {
      --refusing;
    } else {
      --served;
      if (auto it = per_address.find(address); it != per_address.end() && --it->second <= 0) {
        per_address.erase(it);
      }
    }
    all_gone.notify_all();
  };
  auto conn = std::make_shared<HttpConnection>(std::move(socket), shared, std::move(gone));
  open.emplace(id, conn);
  if (serve) {
    ++served;
    ++per_address[address];
  } else {
    ++refusing;
  }
  return conn;
}

void HttpServer::Impl::LogRefusalLocked(const std::string& why) {
  // One line a minute at most: a client hammering a cap must not flood the log.
  ++refused_since_log;
  const absl::Time now = absl::Now();
  if (now - last_refusal_log < absl::Minutes(1)) return;
  spdlog::warn("http: refused {} connection(s) with 503 since the last report, e.g.: {}",
               refused_since_log, why);
  refused_since_log = 0;
  last_refusal_log = now;
}

}  // namespace hera::api
