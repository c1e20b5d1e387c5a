#include "api/router.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/http_errors.h"

namespace hera::api {
namespace {

std::vector<std::string> Segments(const std::string& path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  std::map<std::string, std::string> captured;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      captured[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  if (params) *params = std::move(captured);
  return true;
}

}  // namespace

void Router::Add(const std::string& method, const std::string& pattern, HttpHandler handler) {
  routes_.push_back({method, Segments(pattern), std::move(handler)});
}

HttpResponse Router::Handle(HttpRequest& request) const {
  const std::vector<std::string> path = Segments(request.path);
  bool path_known = false;
  for (const auto& route : routes_) {
    if (!Match(route.segments, path, nullptr)) continue;
    path_known = true;
    if (route.method != request.method) continue;
    Match(route.segments, path, &request.params);
    return route.handler(request);
  }
  if (path_known) {
    HttpResponse resp = ErrorResponse(absl::InvalidArgumentError(
        absl::StrCat("method ", request.method, " is not allowed on ", request.path)));
    resp.status = 405;
    return resp;
  }
  return ErrorResponse(absl::NotFoundError(absl::StrCat("no such endpoint: ", request.path)));
}

}  // namespace hera::api
