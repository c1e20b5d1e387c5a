#include "api/http_server.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "common/thread_name.h"

namespace hera::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr char kServerName[] = "hera";

std::string ErrorJson(std::string_view code, std::string_view message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

void SetTimeouts(int fd, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  timeval send_tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_tv, sizeof send_tv);
}

class SocketStream final : public ResponseStream {
 public:
  SocketStream(tcp::socket* socket, const std::atomic<bool>* stopping)
      : socket_(socket), stopping_(stopping) {}
  bool Write(std::string_view bytes) override {
    if (!open()) return false;
    boost::system::error_code ec;
    net::write(*socket_, net::buffer(bytes.data(), bytes.size()), ec);
    if (ec) failed_ = true;
    return !failed_;
  }
  bool open() const override { return !failed_ && !stopping_->load(); }

 private:
  tcp::socket* socket_;
  const std::atomic<bool>* stopping_;
  bool failed_ = false;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  net::io_context io;
  tcp::acceptor acceptor{io};
  int listen_fd = -1;  // set once by Listen(); Stop() shuts it down to wake accept()
  std::thread accept_thread;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable idle;
  std::set<int> connections;  // native fds of open connections; guarded by mu

  void AcceptLoop();
  void Serve(tcp::socket socket);
  HttpResponse Handle(http::request<http::string_body>& req, const std::string& peer);
  // The body limit of the request's route (options.body_limits, else max_body_bytes).
  HttpServerOptions::BodyLimit BodyLimitFor(const http::request<http::string_body>& req) const;
  // Answers 413 with `limit`'s message, then drains the socket briefly so the client reads it.
  void RefuseTooLarge(tcp::socket& socket, const HttpServerOptions::BodyLimit& limit);
  void WriteResponse(tcp::socket& socket, unsigned version, bool keep_alive,
                     HttpResponse& resp, boost::system::error_code& ec);
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Listen(const HttpServerOptions& options,
                                                               HttpHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  boost::system::error_code ec;
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
  const int port = impl->acceptor.local_endpoint().port();
  impl->listen_fd = impl->acceptor.native_handle();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl, int port) : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start() {
  impl_->accept_thread = std::thread([impl = impl_.get()] { impl->AcceptLoop(); });
}

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) {
    if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
    return;
  }
  // shutdown() wakes a thread blocked in accept()/read() on these sockets. The acceptor is
  // closed only once its thread is gone, so no two threads touch it at once.
  ::shutdown(impl_->listen_fd, SHUT_RDWR);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  std::unique_lock lock(impl_->mu);
  for (int fd : impl_->connections) ::shutdown(fd, SHUT_RDWR);
  impl_->idle.wait(lock, [this] { return impl_->connections.empty(); });
}

void HttpServer::Impl::AcceptLoop() {
  NameCurrentThread("hera-http");
  while (!stopping.load()) {
    tcp::socket socket(io);
    boost::system::error_code ec;
    acceptor.accept(socket, ec);
    if (ec) {
      if (stopping.load()) break;
      spdlog::warn("http accept: {}", ec.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    const int fd = socket.native_handle();
    {
      std::lock_guard lock(mu);
      if (static_cast<int>(connections.size()) >= options.max_connections || stopping.load()) {
        const std::string body =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        net::write(socket, net::buffer(body), ec);
        continue;
      }
      connections.insert(fd);
    }
    std::thread([this, s = std::move(socket)]() mutable { Serve(std::move(s)); }).detach();
  }
}

HttpServerOptions::BodyLimit HttpServer::Impl::BodyLimitFor(
    const http::request<http::string_body>& req) const {
  const std::string_view target(req.target().data(), req.target().size());
  const std::string key =
      absl::StrCat(AsAbsl(std::string_view(req.method_string().data(), req.method_string().size())),
                   " ", AsAbsl(target.substr(0, target.find('?'))));
  auto it = options.body_limits.find(key);
  return it == options.body_limits.end() ? HttpServerOptions::BodyLimit{options.max_body_bytes, ""}
                                         : it->second;
}

void HttpServer::Impl::RefuseTooLarge(tcp::socket& socket,
                                      const HttpServerOptions::BodyLimit& limit) {
  HttpResponse resp;
  resp.status = 413;
  resp.body = ErrorJson(
      "RESOURCE_EXHAUSTED",
      !limit.too_large.empty()
          ? limit.too_large
          : absl::StrCat("the request body is larger than ", limit.bytes, " bytes"));
  boost::system::error_code ec;
  WriteResponse(socket, 11, false, resp, ec);
  if (ec) return;
  // The client may still be sending the body. Closing with unread data makes the kernel answer
  // with a reset, which can destroy the 413 before the client reads it: read and drop what
  // comes for a few seconds first (a lingering close, as nginx does).
  socket.shutdown(tcp::socket::shutdown_send, ec);
  SetTimeouts(socket.native_handle(), 1);
  const absl::Time until = absl::Now() + absl::Seconds(5);
  char sink[64 * 1024];
  while (!ec && absl::Now() < until && !stopping.load()) {
    socket.read_some(net::buffer(sink), ec);
  }
}

void HttpServer::Impl::Serve(tcp::socket socket) {
  NameCurrentThread("hera-http-conn");
  const int fd = socket.native_handle();
  SetTimeouts(fd, options.idle_timeout_s);
  socket.set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  std::string peer;
  if (auto remote = socket.remote_endpoint(ec); !ec) peer = remote.address().to_string();
  while (!stopping.load()) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    // The route, known once the header is in, decides the limit: no limit until then (Beast
    // would otherwise fail the header of a large upload before we could answer 413).
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read_header(socket, buffer, parser, ec);
    if (ec) break;  // closed, timed out, or malformed
    const HttpServerOptions::BodyLimit limit = BodyLimitFor(parser.get());
    if (const auto length = parser.content_length(); length && *length > limit.bytes) {
      RefuseTooLarge(socket, limit);
      break;
    }
    parser.body_limit(limit.bytes);
    if (absl::EqualsIgnoreCase(AsAbsl(std::string_view(parser.get()[http::field::expect])),
                               "100-continue")) {
      // curl -F waits for this (or a second) before it sends a large body.
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      http::write(socket, go_on, ec);
      if (ec) break;
    }
    http::read(socket, buffer, parser, ec);
    if (ec == http::error::body_limit) {  // a chunked body that outgrew the limit
      RefuseTooLarge(socket, limit);
      break;
    }
    if (ec) break;  // closed, timed out, or malformed
    auto req = parser.release();
    const bool keep_alive = req.keep_alive();
    HttpResponse resp = Handle(req, peer);
    WriteResponse(socket, req.version(), keep_alive && !resp.stream, resp, ec);
    if (ec || resp.stream || !keep_alive) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  std::lock_guard lock(mu);
  connections.erase(fd);
  idle.notify_all();
}

HttpResponse HttpServer::Impl::Handle(http::request<http::string_body>& req,
                                      const std::string& peer) {
  HttpRequest r;
  r.peer = peer;
  r.method = std::string(req.method_string());
  const std::string_view target(req.target().data(), req.target().size());
  if (!ParseTarget(target, &r.path, &r.query)) {
    HttpResponse resp;
    resp.status = 400;
    resp.body = ErrorJson("INVALID_ARGUMENT", "the request URL has a bad %-escape");
    return resp;
  }
  for (const auto& field : req) {
    r.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  r.body = std::move(req.body());
  try {
    return handler(r);
  } catch (const std::exception& e) {
    // Handlers convert their errors; anything reaching here is a bug, reported as 500.
    spdlog::error("http {} {}: unexpected exception: {}", r.method, r.path, e.what());
    HttpResponse resp;
    resp.status = 500;
    resp.body = ErrorJson("INTERNAL", "internal error");
    return resp;
  }
}

void HttpServer::Impl::WriteResponse(tcp::socket& socket, unsigned version, bool keep_alive,
                                     HttpResponse& resp, boost::system::error_code& ec) {
  if (resp.stream) {
    http::response<http::empty_body> res{static_cast<http::status>(resp.status), version};
    res.set(http::field::server, kServerName);
    res.set(http::field::content_type, resp.content_type);
    res.set(http::field::cache_control, "no-cache");
    for (const auto& [k, v] : resp.headers) res.set(k, v);
    res.keep_alive(false);
    http::response_serializer<http::empty_body> sr{res};
    http::write_header(socket, sr, ec);
    if (ec) return;
    SocketStream stream(&socket, &stopping);
    resp.stream(stream);
    return;
  }
  http::response<http::string_body> res{static_cast<http::status>(resp.status), version};
  res.set(http::field::server, kServerName);
  if (!resp.body.empty() || resp.status != 204) res.set(http::field::content_type, resp.content_type);
  for (const auto& [k, v] : resp.headers) res.set(k, v);
  res.body() = std::move(resp.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  http::write(socket, res, ec);
}

}  // namespace hera::api
