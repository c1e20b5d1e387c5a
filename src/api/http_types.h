#pragma once
// The HTTP request and response as handlers see them, free of Boost types so that routes and
// their tests do not depend on the server.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// A response body written piece by piece (server-sent events). Write returns false once the
// client is gone or the server is stopping; the producer should then return.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual bool Write(std::string_view bytes) = 0;
  virtual bool open() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the headers are sent without a length and `stream` writes the body until it
  // returns; the connection then closes.
  std::function<void(ResponseStream&)> stream;
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

// Splits "/a/b?x=1&y=%20" into a decoded path and query map. False if the escapes are bad.
bool ParseTarget(std::string_view target, std::string* path,
                 std::map<std::string, std::string>* query);

}  // namespace hera::api
