#include "common/zone_name.h"

#include <string>

namespace hera {
namespace {

// tzdata's own rule for names (tz-link, "Names of timezones"): components of ASCII letters,
// digits, '_', '-' and '+', separated by '/', none starting with '-' (nor '.', which makes
// "." and ".." impossible), at most 14 bytes each. Longer-than-usual components are allowed
// here, as some zones in the database exceed that by a little.
bool LooksLikeIanaName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = name.find('/', start);
    const std::string_view part =
        name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part.size() > 32 || part[0] == '-') return false;
    for (char c : part) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '+';
      if (!ok) return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

bool LoadIanaZone(std::string_view name, absl::TimeZone* tz) {
  // "localtime" is cctz's word for the host's zone, not a zone name.
  if (!LooksLikeIanaName(name) || name == "localtime") return false;
  return absl::LoadTimeZone(std::string(name), tz);
}

}  // namespace hera
