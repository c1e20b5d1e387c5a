#pragma once
// Small parsers shared by the route files: ids, paging, JSON bodies. Each error names the
// parameter and says what was expected.

#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/auth.h"
#include "api/http_errors.h"
#include "api/http_types.h"
#include "core/job_zone.h"
#include "core/store.h"

namespace hera::api {

// The path capture `name` as a positive id; NotFound-style InvalidArgument otherwise.
absl::StatusOr<int64_t> PathId(const HttpRequest& req, const std::string& name = "id");
// The query parameter `name` as an integer in [lo, hi], or `fallback` when absent.
absl::StatusOr<int64_t> QueryInt(const HttpRequest& req, const std::string& name,
                                 int64_t fallback, int64_t lo, int64_t hi);
// `limit` (1–10,000, default 100) and `offset` (≥ 0, default 0).
absl::StatusOr<std::pair<int64_t, int64_t>> Paging(const HttpRequest& req);
// The body as JSON; an empty body is `{}` when `empty_ok`.
absl::StatusOr<nlohmann::json> JsonBody(const HttpRequest& req, bool empty_ok = false);

// The query value `text` of parameter `name` as an ISO-8601 time (local times in `tz`).
absl::StatusOr<absl::Time> ParseIsoTimeParam(const std::string& name, const std::string& text,
                                             const absl::TimeZone& tz);

// The time in field `name` of `body`: required, ISO-8601 (local times in `tz`).
absl::StatusOr<absl::Time> TimeField(const nlohmann::json& body, const char* name,
                                     const absl::TimeZone& tz);
// Field "parallelism" of `body` (1–32), or `fallback` when absent.
absl::StatusOr<int> Parallelism(const nlohmann::json& body, int fallback);
// InvalidArgument naming the first field of `body` that is not in `allowed`.
absl::Status OnlyFields(const nlohmann::json& body, std::initializer_list<const char*> allowed);

// The zone `job`'s times and macros are in, and why (core::ZoneOfJob over the stored jobs).
core::JobZone StoredJobZone(core::Store* store, const core::Job& job);
// {"name","reason","inherited_from"} of `zone`, `name` resolved to the server's zone `tz`.
nlohmann::json JobZoneJson(const core::JobZone& zone, const absl::TimeZone& tz);

// An endpoint that needs a signed-in user.
using UserHandler = std::function<HttpResponse(HttpRequest&, const core::User&)>;
// Wraps `handler`: answers 401 unless the request carries a valid bearer token.
HttpHandler Authenticated(Auth* auth, UserHandler handler);

}  // namespace hera::api

#define HERA_API_CONCAT_INNER_(a, b) a##b
#define HERA_API_CONCAT_(a, b) HERA_API_CONCAT_INNER_(a, b)
// Inside a handler: `HERA_TRY(auto x, F())` declares x from F()'s value, or returns F()'s
// error as the HTTP response.
#define HERA_TRY(lhs, expr) HERA_TRY_IMPL_(HERA_API_CONCAT_(hera_try_, __LINE__), lhs, expr)
#define HERA_TRY_IMPL_(tmp, lhs, expr)                             \
  auto tmp = (expr);                                               \
  if (!tmp.ok()) return ::hera::api::ErrorResponse(tmp.status());  \
  lhs = std::move(tmp).value()
