#include "cli/ctl_group_ref.h"

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "common/strings.h"

namespace hera::cli {
namespace {

int64_t IdOf(const Json& g) {
  return g.contains("id") && g["id"].is_number_integer() ? g["id"].get<int64_t>() : 0;
}

int64_t ParentOf(const Json& g) {
  return g.contains("parent_id") && g["parent_id"].is_number_integer()
             ? g["parent_id"].get<int64_t>()
             : 0;
}

std::string NameOf(const Json& g) {
  return g.contains("name") && g["name"].is_string() ? g["name"].get<std::string>() : "";
}

}  // namespace

absl::StatusOr<int64_t> FindGroup(const Json& groups, std::string_view ref) {
  const std::string text(absl::StripAsciiWhitespace(AsAbsl(ref)));
  if (text.empty()) return absl::InvalidArgumentError("a group is named by its id or its path");
  int64_t id = 0;
  if (absl::SimpleAtoi(text, &id) && id > 0) return id;
  int64_t parent = 0;  // 0: the top
  std::string walked;
  for (absl::string_view name : absl::StrSplit(text, '/', absl::SkipEmpty())) {
    int64_t found = 0;
    std::vector<std::string> there;
    for (const Json& g : groups) {
      if (ParentOf(g) != parent) continue;
      there.push_back(NameOf(g));
      if (NameOf(g) == AsStd(name)) found = IdOf(g);
    }
    if (!found) {
      return absl::NotFoundError(absl::StrCat(
          "no group '", text, "': ", walked.empty() ? "the top" : absl::StrCat("'", walked, "'"),
          " has no group '", name, "' (", there.empty() ? "it has none" : "its groups: ",
          absl::StrJoin(there, ", "), ")"));
    }
    absl::StrAppend(&walked, walked.empty() ? "" : "/", name);
    parent = found;
  }
  if (!parent) return absl::InvalidArgumentError("a group is named by its id or its path");
  return parent;
}

std::string GroupPathOf(const Json& groups, int64_t id) {
  std::vector<std::string> names;
  std::set<int64_t> seen;
  while (id && seen.insert(id).second) {
    const Json* group = nullptr;
    for (const Json& g : groups) {
      if (IdOf(g) == id) group = &g;
    }
    if (!group) return "";
    names.push_back(NameOf(*group));
    id = ParentOf(*group);
  }
  return absl::StrJoin(names.rbegin(), names.rend(), "/");
}

absl::StatusOr<Json> FetchGroups(ApiClient& api) {
  HERA_ASSIGN_OR_RETURN(Json resp, api.Get("/groups?limit=10000"));
  return resp.is_object() && resp.contains("items") ? resp["items"] : Json::array();
}

absl::StatusOr<int64_t> ResolveGroup(ApiClient& api, std::string_view ref) {
  int64_t id = 0;
  if (absl::SimpleAtoi(absl::StripAsciiWhitespace(AsAbsl(ref)), &id) && id > 0) return id;
  HERA_ASSIGN_OR_RETURN(Json groups, FetchGroups(api));
  return FindGroup(groups, ref);
}

}  // namespace hera::cli
