#include "master/resource_name.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace hera::master {
namespace {

absl::Status Bad(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "resource name \"", absl::CHexEscape(AsAbsl(name.substr(0, 240))), "\" ", AsAbsl(why)));
}

}  // namespace

absl::Status ValidateResourceName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("resource name is empty");
  if (name.size() > kMaxResourceNameBytes) {
    return Bad(name, absl::StrCat("is ", name.size(), " bytes long; the limit is ",
                                  kMaxResourceNameBytes));
  }
  // The name is a directory under <data_dir>/resources: nothing that leaves it, and no
  // leading '.' (the store's own temporary files start with one).
  if (name.front() == '.') return Bad(name, "starts with '.'");
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return Bad(name, "contains a path separator");
  }
  if (name.find("..") != std::string_view::npos) return Bad(name, "contains \"..\"");
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return Bad(name, "contains a control character");
    // download[uri name] splits on blanks, and hera://name?version=N ends the name at '?'
    // ('#' likewise): a resource with one of these could never be fetched.
    if (c == ' ') return Bad(name, "contains a space");
    if (c == '?' || c == '#') return Bad(name, "contains '?' or '#'");
  }
  return absl::OkStatus();
}

}  // namespace hera::master
