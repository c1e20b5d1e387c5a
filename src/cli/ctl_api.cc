#include "cli/ctl_api.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera::cli {
namespace {

constexpr char kExitPayload[] = "type.hera.dev/cli.unreachable";

absl::StatusCode CodeFromName(std::string_view name, long http_status) {  // NOLINT
  for (int c = 1; c <= 16; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    if (absl::StatusCodeToString(code) == AsAbsl(name)) return code;
  }
  switch (http_status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAborted;
    case 422:
      return absl::StatusCode::kFailedPrecondition;
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

// The first line of a body that is not our error JSON, short enough for one error line.
std::string BodySnippet(const std::string& body) {
  std::string s = body.substr(0, body.find('\n'));
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

}  // namespace

std::string NormalizeServer(std::string_view url) {
  std::string s(url);
  while (!s.empty() && (s.back() == '/' || s.back() == ' ')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  if (s.find("://") == std::string::npos) s = "http://" + s;
  return s;
}

absl::Status UnreachableError(std::string_view server, std::string_view why) {
  absl::Status st = absl::UnavailableError(
      absl::StrCat("cannot reach Hera at ", AsAbsl(server), ": ", AsAbsl(why)));
  st.SetPayload(kExitPayload, absl::Cord("2"));
  return st;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return 0;
  return status.GetPayload(kExitPayload).has_value() ? kExitUnreachable : kExitError;
}

absl::Status ErrorFromResponse(const HttpResponse& resp, bool session_expired_hint) {
  if (resp.status == 401 && session_expired_hint) {
    return absl::UnauthenticatedError("not logged in or session expired; run 'hera ctl login'");
  }
  std::string code;
  std::string message;
  const Json j = Json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const Json& e = j["error"];
    if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) {
      message = e["message"].get<std::string>();
    }
  }
  if (message.empty()) {
    message = absl::StrCat("HTTP ", resp.status);
    if (const std::string snippet = BodySnippet(resp.body); !snippet.empty()) {
      absl::StrAppend(&message, ": ", snippet);
    }
  }
  const absl::StatusCode status_code = CodeFromName(code, resp.status);
  if (code.empty()) code = std::string(AsStd(absl::StatusCodeToString(status_code)));
  return absl::Status(status_code, absl::StrCat(message, " (", code, ")"));
}

ApiClient::ApiClient(HttpClient* http, std::string server, std::string token)
    : http_(http), server_(std::move(server)), token_(std::move(token)) {}

HttpRequest ApiClient::NewRequest(std::string_view method, std::string_view path) const {
  HttpRequest req;
  req.method = std::string(method);
  req.url = absl::StrCat(server_, "/api/v1", AsAbsl(path));
  if (!token_.empty()) req.headers.push_back(absl::StrCat("Authorization: Bearer ", token_));
  return req;
}

absl::StatusOr<HttpResponse> ApiClient::Send(const HttpRequest& req) {
  absl::StatusOr<HttpResponse> resp = http_->Send(req);
  if (!resp.ok()) {
    if (resp.status().code() == absl::StatusCode::kUnavailable) {
      return UnreachableError(server_, AsStd(resp.status().message()));
    }
    return resp.status();
  }
  return resp;
}

absl::StatusOr<Json> ApiClient::JsonCall(std::string_view method, std::string_view path,
                                         const Json* body, bool session_expired_hint) {
  HttpRequest req = NewRequest(method, path);
  req.headers.push_back("Accept: application/json");
  if (body != nullptr) {
    req.has_body = true;
    req.body = body->dump(-1, ' ', false, Json::error_handler_t::replace);
    req.headers.push_back("Content-Type: application/json");
  }
  return JsonAnswer(std::move(req), session_expired_hint);
}

absl::StatusOr<Json> ApiClient::JsonAnswer(HttpRequest req, bool session_expired_hint) {
  absl::StatusOr<HttpResponse> resp = Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status < 200 || resp->status >= 300) {
    return ErrorFromResponse(*resp, session_expired_hint);
  }
  if (resp->status == 204 || resp->body.empty()) return Json();
  Json j = Json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InternalError(absl::StrCat("the server sent a response that is not JSON (HTTP ",
                                            resp->status, "): ", BodySnippet(resp->body)));
  }
  return j;
}

absl::StatusOr<Json> ApiClient::Get(std::string_view path) {
  return JsonCall("GET", path, nullptr);
}

absl::StatusOr<Json> ApiClient::Post(std::string_view path, const Json& body) {
  return JsonCall("POST", path, &body);
}

absl::StatusOr<Json> ApiClient::Patch(std::string_view path, const Json& body) {
  return JsonCall("PATCH", path, &body);
}

absl::StatusOr<Json> ApiClient::Delete(std::string_view path) {
  return JsonCall("DELETE", path, nullptr);
}

absl::StatusOr<Json> ApiClient::PostRaw(std::string_view path, std::string_view content_type,
                                        std::string body) {
  HttpRequest req = NewRequest("POST", path);
  req.headers.push_back("Accept: application/json");
  req.headers.push_back(absl::StrCat("Content-Type: ", AsAbsl(content_type)));
  req.has_body = true;
  req.body = std::move(body);
  return JsonAnswer(std::move(req), /*session_expired_hint=*/true);
}

absl::StatusOr<Json> ApiClient::Login(std::string_view username, std::string_view password) {
  const Json body = {{"username", std::string(username)}, {"password", std::string(password)}};
  // No token: the login must not depend on (or leak) an old session.
  ApiClient anonymous(http_, server_, "");
  return anonymous.JsonCall("POST", "/auth/login", &body, /*session_expired_hint=*/false);
}

absl::StatusOr<HttpResponse> ApiClient::GetRaw(std::string_view path) {
  absl::StatusOr<HttpResponse> resp = Send(NewRequest("GET", path));
  if (!resp.ok()) return resp.status();
  if (resp->status < 200 || resp->status >= 300) return ErrorFromResponse(*resp, true);
  return resp;
}

absl::Status ApiClient::Stream(std::string_view path, std::string_view last_event_id,
                               absl::FunctionRef<bool(std::string_view)> on_data,
                               absl::Duration stall_timeout) {
  HttpRequest req = NewRequest("GET", path);
  req.headers.push_back("Accept: text/event-stream");
  if (!last_event_id.empty()) {
    req.headers.push_back(absl::StrCat("Last-Event-ID: ", AsAbsl(last_event_id)));
  }
  absl::StatusOr<HttpResponse> resp = http_->Stream(req, on_data, stall_timeout);
  if (!resp.ok()) {
    if (resp.status().code() == absl::StatusCode::kUnavailable) {
      return UnreachableError(server_, AsStd(resp.status().message()));
    }
    return resp.status();
  }
  if (resp->status < 200 || resp->status >= 300) return ErrorFromResponse(*resp, true);
  return absl::OkStatus();
}

}  // namespace hera::cli
