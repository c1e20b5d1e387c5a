#pragma once
// Groups as people name them on the command line: an id ("12") or a path of names from the
// top ("dw/ods"; group names never contain '/').

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "cli/ctl_api.h"

namespace hera::cli {

// The id of group `ref` among `groups` (the items of GET /groups). InvalidArgument for an
// empty reference; NotFound naming the first name not found and the names there are.
absl::StatusOr<int64_t> FindGroup(const Json& groups, std::string_view ref);

// "dw/ods": the names from the top down to group `id`, or "" when it is not among `groups`.
std::string GroupPathOf(const Json& groups, int64_t id);

// Every group (GET /groups), for FindGroup and GroupPathOf.
absl::StatusOr<Json> FetchGroups(ApiClient& api);

// FindGroup over the server's groups; an id is taken as it is, without a request.
absl::StatusOr<int64_t> ResolveGroup(ApiClient& api, std::string_view ref);

}  // namespace hera::cli
