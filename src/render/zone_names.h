#pragma once
// The time-zone names SimpleDateFormat prints for Locale.US (pattern letter z), which tzdata
// does not carry: "China Standard Time", and "SGT" where tzdata says "+08".

#include <string>
#include <string_view>

namespace hera::render {

// Java's short (`long_form` false: "CST", "EDT") or long ("China Standard Time") display name
// of `zone_name` at an instant with UTC offset `utc_offset_s`, in or out of DST.
// Zones outside a built-in table of common zones get the tzdata abbreviation when it is
// alphabetic, else (and for the long form) the offset as Java prints unnamed zones:
// "GMT+08:00".
std::string JavaZoneDisplayName(std::string_view zone_name, std::string_view tz_abbr,
                                int utc_offset_s, bool is_dst, bool long_form);

}  // namespace hera::render
