#include "api/http_errors.h"

#include "absl/strings/str_cat.h"

namespace hera::api {

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse ErrorResponse(const absl::Status& status) {
  std::string code = absl::StatusCodeToString(status.code());
  return JsonResponse(HttpStatusOf(status),
                      {{"error", {{"code", code}, {"message", std::string(status.message())}}}});
}

HttpResponse JsonResponse(int http_status, const nlohmann::json& body) {
  HttpResponse resp;
  resp.status = http_status;
  resp.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return resp;
}

}  // namespace hera::api
