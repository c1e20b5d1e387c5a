#pragma once
// The one place where absl::Status codes become HTTP statuses and the error body
// {"error":{"code":"NOT_FOUND","message":"..."}} (DESIGN.md §7).

#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "api/http_types.h"

namespace hera::api {

// The HTTP status for a non-OK `status`.
int HttpStatusOf(const absl::Status& status);
// An error response for a non-OK `status`.
HttpResponse ErrorResponse(const absl::Status& status);
// A JSON response with `body`.
HttpResponse JsonResponse(int http_status, const nlohmann::json& body);

}  // namespace hera::api
