#pragma once
// Maps (method, path pattern) to handlers. Patterns are literal segments and `{name}`
// captures, e.g. "/api/v1/jobs/{id}/run". Unknown paths answer 404, known paths with another
// method 405.

#include <string>
#include <vector>

#include "api/http_types.h"

namespace hera::api {

class Router {
 public:
  // Adds a route; `handler` gets captures in request.params.
  void Add(const std::string& method, const std::string& pattern, HttpHandler handler);
  // Serves `request` with the matching route.
  HttpResponse Handle(HttpRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    HttpHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace hera::api
