#include "render/zone_names.h"

#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"

namespace hera::render {
namespace {

struct ZoneNames {
  std::string_view zone;
  std::string_view short_std, short_dst, long_std, long_dst;
};

// Taken from OpenJDK 17's TimeZone.getDisplayName(daylight, style, Locale.US).
constexpr ZoneNames kZones[] = {
    {"UTC", "UTC", "UTC", "Coordinated Universal Time", "Coordinated Universal Time"},
    {"Etc/UTC", "UTC", "UTC", "Coordinated Universal Time", "Coordinated Universal Time"},
    {"GMT", "GMT", "GMT", "Greenwich Mean Time", "Greenwich Mean Time"},
    {"Etc/GMT", "GMT", "GMT", "Greenwich Mean Time", "Greenwich Mean Time"},
    {"Asia/Shanghai", "CST", "CDT", "China Standard Time", "China Daylight Time"},
    {"Asia/Chongqing", "CST", "CDT", "China Standard Time", "China Daylight Time"},
    {"Asia/Harbin", "CST", "CDT", "China Standard Time", "China Daylight Time"},
    {"PRC", "CST", "CDT", "China Standard Time", "China Daylight Time"},
    {"Asia/Macau", "CST", "CDT", "China Standard Time", "China Daylight Time"},
    {"Asia/Urumqi", "XJT", "XJDT", "Xinjiang Standard Time", "Xinjiang Daylight Time"},
    {"Asia/Hong_Kong", "HKT", "HKST", "Hong Kong Standard Time", "Hong Kong Summer Time"},
    {"Asia/Taipei", "CST", "CDT", "Taipei Standard Time", "Taipei Daylight Time"},
    {"Asia/Tokyo", "JST", "JDT", "Japan Standard Time", "Japan Daylight Time"},
    {"Asia/Seoul", "KST", "KDT", "Korean Standard Time", "Korean Daylight Time"},
    {"Asia/Singapore", "SGT", "SGST", "Singapore Standard Time", "Singapore Summer Time"},
    {"Asia/Kuala_Lumpur", "MYT", "MYST", "Malaysia Time", "Malaysia Summer Time"},
    {"Asia/Jakarta", "WIB", "WIST", "Western Indonesia Time", "West Indonesia Summer Time"},
    {"Asia/Bangkok", "ICT", "ICST", "Indochina Time", "Indochina Summer Time"},
    {"Asia/Ho_Chi_Minh", "ICT", "ICST", "Indochina Time", "Indochina Summer Time"},
    {"Asia/Manila", "PST", "PDT", "Philippine Standard Time", "Philippine Summer Time"},
    {"Asia/Kolkata", "IST", "IDT", "India Standard Time", "India Daylight Time"},
    {"Asia/Dubai", "GST", "GDT", "Gulf Standard Time", "Gulf Daylight Time"},
    {"Europe/London", "GMT", "BST", "Greenwich Mean Time", "British Summer Time"},
    {"Europe/Berlin", "CET", "CEST", "Central European Standard Time",
     "Central European Summer Time"},
    {"Europe/Paris", "CET", "CEST", "Central European Standard Time",
     "Central European Summer Time"},
    {"Europe/Amsterdam", "CET", "CEST", "Central European Standard Time",
     "Central European Summer Time"},
    {"Europe/Moscow", "MSK", "MSD", "Moscow Standard Time", "Moscow Summer Time"},
    {"America/New_York", "EST", "EDT", "Eastern Standard Time", "Eastern Daylight Time"},
    {"America/Toronto", "EST", "EDT", "Eastern Standard Time", "Eastern Daylight Time"},
    {"America/Chicago", "CST", "CDT", "Central Standard Time", "Central Daylight Time"},
    {"America/Denver", "MST", "MDT", "Mountain Standard Time", "Mountain Daylight Time"},
    {"America/Phoenix", "MST", "MDT", "Mountain Standard Time", "Mountain Daylight Time"},
    {"America/Los_Angeles", "PST", "PDT", "Pacific Standard Time", "Pacific Daylight Time"},
    {"America/Sao_Paulo", "BRT", "BRST", "Brasilia Standard Time", "Brasilia Summer Time"},
    {"Australia/Sydney", "AEST", "AEDT", "Australian Eastern Standard Time",
     "Australian Eastern Daylight Time"},
    {"Pacific/Auckland", "NZST", "NZDT", "New Zealand Standard Time", "New Zealand Daylight Time"},
};

bool IsAlphabetic(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

std::string GmtOffset(int utc_offset_s) {
  const int minutes = std::abs(utc_offset_s) / 60;
  return absl::StrFormat("GMT%c%02d:%02d", utc_offset_s < 0 ? '-' : '+', minutes / 60,
                         minutes % 60);
}

}  // namespace

std::string JavaZoneDisplayName(std::string_view zone_name, std::string_view tz_abbr,
                                int utc_offset_s, bool is_dst, bool long_form) {
  for (const ZoneNames& z : kZones) {
    if (z.zone != zone_name) continue;
    const std::string_view name =
        long_form ? (is_dst ? z.long_dst : z.long_std) : (is_dst ? z.short_dst : z.short_std);
    return std::string(name);
  }
  if (!long_form && IsAlphabetic(tz_abbr)) return std::string(tz_abbr);
  return GmtOffset(utc_offset_s);
}

}  // namespace hera::render
