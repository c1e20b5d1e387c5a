#pragma once
// A small HTTP/1.1 server on Boost.Beast: one thread accepts, one thread serves each
// connection (keep-alive; long-lived streams for server-sent events). Bounded: request bodies
// up to a limit, a cap on open connections, idle connections closed after a timeout.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
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
  int max_connections = 512;                // beyond it new connections get 503
  int idle_timeout_s = 120;                 // a keep-alive connection silent this long closes
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
  // Starts accepting on a background thread.
  void Start();
  // Stops accepting, closes every connection (streams end) and waits for their threads.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace hera::api
