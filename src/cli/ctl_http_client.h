#pragma once
// A small blocking HTTP/1.1 client over libcurl for `hera ctl`: one request at a time, whole
// bodies or a streamed body (for server-sent events).

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hera::cli {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool has_body = false;
  std::string body;
};

struct HttpResponse {
  long status = 0;                             // NOLINT(google-runtime-int): libcurl's type
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;

  // The header's value, or "" when absent. `name` is matched case-insensitively.
  std::string Header(std::string_view name) const;
};

struct HttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(10);
  // A transfer that moves no byte for this long is abandoned (a dead peer or network). For a
  // stream this must exceed the server's keepalive interval.
  absl::Duration stall_timeout = absl::Seconds(60);
};

// Not thread-safe; reuses one connection across requests. Move-only.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs `req` and returns the response whatever its HTTP status. Returns UnavailableError
  // with libcurl's message when no complete response arrived (refused, timed out, reset).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& req);

  // Like Send(), but a 2xx body is handed to `on_data` as it arrives instead of being kept;
  // returning false from `on_data` ends the transfer early (and successfully). A non-2xx body is
  // kept in the response as Send() does. `stall_timeout` applies between chunks.
  absl::StatusOr<HttpResponse> Stream(const HttpRequest& req,
                                      absl::FunctionRef<bool(std::string_view)> on_data,
                                      absl::Duration stall_timeout);

  // Percent-encodes `s` for use in a URL query or path segment.
  static std::string Escape(std::string_view s);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hera::cli
