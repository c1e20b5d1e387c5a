#pragma once
// The Hera HTTP API (DESIGN.md §7) as `hera ctl` uses it: JSON calls under /api/v1 with the
// session token, the error body turned into a Status, and the exit codes errors map to.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/ctl_http_client.h"

namespace hera::cli {

// Keeps the server's key order, so --json and `show` print fields as the server sent them.
using Json = nlohmann::ordered_json;

inline constexpr char kDefaultServer[] = "http://127.0.0.1:8080";
inline constexpr int kExitError = 1;        // the server refused, or bad local input
inline constexpr int kExitUnreachable = 2;  // no HTTP response from the server at all

// "host:8080" → "http://host:8080"; trailing slashes dropped. Used to compare servers too.
std::string NormalizeServer(std::string_view url);

// UnavailableError "cannot reach Hera at <server>: <why>", marked so ExitCodeFor() returns 2.
absl::Status UnreachableError(std::string_view server, std::string_view why);
// 2 for UnreachableError(), 1 for every other error.
int ExitCodeFor(const absl::Status& status);

// Turns a non-2xx response into a Status whose message is "<message> (<CODE>)" from the
// `{"error":{"code","message"}}` body (or the HTTP status when the body is not that shape).
// With `session_expired_hint`, a 401 becomes the "run 'hera ctl login'" message instead.
absl::Status ErrorFromResponse(const HttpResponse& resp, bool session_expired_hint);

// Not thread-safe. `http` is borrowed and must outlive the client.
class ApiClient {
 public:
  // `server` is a normalized base URL; `token` may be empty (then requests go unauthenticated
  // and the server answers 401).
  ApiClient(HttpClient* http, std::string server, std::string token);

  const std::string& server() const { return server_; }

  // `path` is relative to /api/v1 and may carry a query ("/jobs?limit=5"). A 204 gives null.
  absl::StatusOr<Json> Get(std::string_view path);
  absl::StatusOr<Json> Post(std::string_view path, const Json& body);
  absl::StatusOr<Json> Patch(std::string_view path, const Json& body);
  absl::StatusOr<Json> Delete(std::string_view path);
  // A POST whose body is not JSON (a multipart upload), sent as `content_type`; the answer and
  // errors as for Post().
  absl::StatusOr<Json> PostRaw(std::string_view path, std::string_view content_type,
                               std::string body);

  // POST /auth/login; a 401 here is a wrong password and keeps the server's message.
  absl::StatusOr<Json> Login(std::string_view username, std::string_view password);

  // A GET whose 2xx body is not JSON (the log); errors as for Get().
  absl::StatusOr<HttpResponse> GetRaw(std::string_view path);

  // A streaming GET (SSE): 2xx bytes go to `on_data`; errors as for Get(). Returns when the
  // server closes, `on_data` returns false, or nothing arrives for `stall_timeout`.
  absl::Status Stream(std::string_view path, std::string_view last_event_id,
                      absl::FunctionRef<bool(std::string_view)> on_data,
                      absl::Duration stall_timeout);

 private:
  HttpRequest NewRequest(std::string_view method, std::string_view path) const;
  absl::StatusOr<HttpResponse> Send(const HttpRequest& req);
  absl::StatusOr<Json> JsonCall(std::string_view method, std::string_view path, const Json* body,
                                bool session_expired_hint = true);
  // Sends `req` and turns its answer into JSON, or its error into a Status.
  absl::StatusOr<Json> JsonAnswer(HttpRequest req, bool session_expired_hint);

  HttpClient* http_;
  std::string server_;
  std::string token_;
};

}  // namespace hera::cli
