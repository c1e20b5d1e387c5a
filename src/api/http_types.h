#pragma once
// The HTTP request and response as handlers see them, free of Boost types so that routes and
// their tests do not depend on the server.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace hera::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query, e.g. "/api/v1/jobs/3"
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::map<std::string, std::string> params;  // filled by the router: {"id": "3"}
  std::string peer;  // the client's address ("127.0.0.1"); empty when unknown

  // The header `name` (lower-case), or "" if absent.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Asks the server to pull a waiting stream again. Cheap, callable from any thread, any number
// of times, also after the connection closed (it then does nothing).
using StreamWaker = std::function<void()>;

// A response body produced piece by piece without a thread of its own (server-sent events, file
// downloads): the server pulls the next bytes when the client has taken the previous ones.
class StreamSource {
 public:
  // What follows the bytes a Pull produced.
  struct Step {
    enum class Then {
      kMore,  // pull again once these bytes are written
      kWait,  // nothing more now: pull again when woken, or after `wait_at_most`
      kDone,  // the body ends with these bytes
    };
    Then then = Then::kMore;
    absl::Duration wait_at_most = absl::InfiniteDuration();  // kWait only
  };
  virtual ~StreamSource() = default;
  // Appends the next bytes (possibly none) to `out` and says what follows. Called on the
  // server's handler threads, one call at a time per stream; may read files or the store but
  // must not wait for data: it returns kWait and has `wake` called when there may be more.
  // The source is destroyed when the connection closes, at any step.
  virtual Step Pull(const StreamWaker& wake, std::string* out) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the headers are sent (without a length unless `headers` has Content-Length) and
  // the body is pulled from `stream`; the connection closes after it.
  std::shared_ptr<StreamSource> stream;
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

// Splits "/a/b?x=1&y=%20" into a decoded path and query map. False if the escapes are bad.
bool ParseTarget(std::string_view target, std::string* path,
                 std::map<std::string, std::string>* query);

}  // namespace hera::api
