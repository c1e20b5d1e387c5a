#pragma once
// Status helpers shared by every module: context on the way up and early-return macros.

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera {

// Returns `status` with `context: ` prefixed to its message; OK stays OK.
inline absl::Status WithContext(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(AsAbsl(context), ": ", status.message()));
}

}  // namespace hera

#define HERA_CONCAT_INNER_(a, b) a##b
#define HERA_CONCAT_(a, b) HERA_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define HERA_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::absl::Status hera_status_ = (expr);   \
    if (!hera_status_.ok()) return hera_status_; \
  } while (0)

// `HERA_ASSIGN_OR_RETURN(auto x, F())`: declares x from F()'s value or returns its status.
#define HERA_ASSIGN_OR_RETURN(lhs, expr) \
  HERA_ASSIGN_OR_RETURN_IMPL_(HERA_CONCAT_(hera_statusor_, __LINE__), lhs, expr)
#define HERA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
