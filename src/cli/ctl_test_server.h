#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 for tests of the ctl client: one connection at a time,
// each answered with the raw bytes a handler returns, then closed. Test-only.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hera::cli {

struct TestRequest {
  std::string method;
  std::string target;                          // path and query
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class TestHttpServer {
 public:
  // Returns the raw response bytes (status line, headers, body); the connection is closed
  // after writing them, so a body without Content-Length ends there.
  using Handler = std::function<std::string(const TestRequest&)>;

  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<TestRequest> requests() const;

  // A complete response with a Content-Length.
  static std::string Response(int status, const std::string& body,
                              const std::string& content_type = "application/json",
                              const std::string& extra_headers = "");

 private:
  void Serve();

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<TestRequest> requests_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace hera::cli
