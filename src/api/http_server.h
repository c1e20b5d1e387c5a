#pragma once
// A small HTTP/1.1 server on Boost.Beast's asynchronous model: a few IO threads run every
// connection (keep-alive; long-lived streams for server-sent events), so an idle or streaming
// connection holds no thread; request handlers run on a separate, bounded pool because they may
// block. Bounded everywhere: header and body sizes, how long a header, a body or a write may
// take, open connections in all and per client address.

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/http_types.h"

namespace hera::api {

struct HttpServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 8080;                          // 0: any free port
  size_t max_body_bytes = 2 * 1024 * 1024;  // larger requests get 413
  // Routes allowed other limits, by "METHOD /path" (the path without its query): e.g.
  // {"POST /api/v1/resources", {upload limit + slack, "..."}}. Others keep max_body_bytes.
  struct BodyLimit {
    size_t bytes = 0;
    std::string too_large;  // the 413's message; empty: "the request body is larger than N bytes"
  };
  std::map<std::string, BodyLimit> body_limits;
  size_t max_header_bytes = 64 * 1024;  // a larger request header gets 431
  // Open connections; beyond either cap a new connection is answered 503 and closed. Each takes
  // a file descriptor (see RLIMIT_NOFILE) and a few KiB, no thread.
  int max_connections = 10000;
  int max_connections_per_address = 64;  // per client IP address
  absl::Duration header_timeout = absl::Seconds(10);  // a whole request header, from its first
                                                      // byte (from accept for the first one)
  absl::Duration body_timeout = absl::Seconds(300);   // a whole request body
  absl::Duration idle_timeout = absl::Seconds(120);   // a keep-alive connection between requests
  absl::Duration write_timeout = absl::Seconds(30);   // each write: a client that reads nothing
                                                      // this long is closed
  int io_threads = 2;        // run the network IO; they never wait on a handler
  int handler_threads = 16;  // run HttpHandler and stream pulls; more requests wait their turn
};

class HttpServer {
 public:
  // Binds and listens; `handler` serves every request and must be thread-safe.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Listen(const HttpServerOptions& options,
                                                            HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // Starts accepting and serving on background threads.
  void Start();
  // Stops accepting, ends streams, closes every connection and waits for the handlers still
  // running. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace hera::api
