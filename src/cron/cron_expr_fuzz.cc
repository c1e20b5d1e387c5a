// libFuzzer target for the cron engine, in memory only.
//
// Input: the expression, then optionally '\n', one byte choosing a time zone ('a' UTC, 'b' New
// York, 'c' London, 'd' Lord Howe, ... in the order of Zones(); any byte works) and a decimal
// number of Unix seconds, e.g. "0 30 2 * * ?\nb1457848800". Whatever parses is evaluated
// around that instant, and the answers are checked against each other: NextAfter and
// PrevBefore must be inverse, AllIn must ascend within its range. A violation aborts.
//
// With -DHERA_FUZZ=ON this is the cron_expr_fuzz executable; otherwise it is linked into
// cron_test, which runs every seed in tests/fuzz/corpus/cron through it.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "cron/cron_expr.h"

namespace {

// Zones with unusual rules: 30-minute DST (Lord_Howe), a skipped day (Apia 2011), negative DST
// (Dublin), a 2-hour shift (Troll), midnight transitions (Amman, Santiago), none (Shanghai).
const std::vector<absl::TimeZone>& Zones() {
  static const auto* zones = [] {
    auto* v = new std::vector<absl::TimeZone>{absl::UTCTimeZone()};
    for (const char* name :
         {"America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Shanghai",
          "America/Santiago", "Asia/Amman", "Pacific/Apia", "Europe/Dublin", "Antarctica/Troll",
          "Asia/Kathmandu", "America/St_Johns", "Africa/Casablanca"}) {
      absl::TimeZone tz;
      if (absl::LoadTimeZone(name, &tz)) v->push_back(tz);
    }
    return v;
  }();
  return *zones;
}

[[noreturn]] void Fail(const char* what, std::string_view expr) {
  std::fprintf(stderr, "cron fuzz invariant broken: %s for '%.*s'\n", what,
               static_cast<int>(expr.size()), expr.data());
  std::abort();
}

int64_t ReadSeconds(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  int64_t n = 0;
  bool any = false;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    any = true;
    if (n < 100000000000) n = n * 10 + (c - '0');  // clamp near year 5000
  }
  if (!any) return 1772928000;  // 2026-03-08T00:00:00Z, a US spring-forward day
  return negative ? -n : n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // long inputs only slow the search down
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view text = in.substr(0, nl);
  const absl::StatusOr<hera::cron::CronExpr> expr = hera::cron::CronExpr::Parse(text);
  if (!expr.ok()) {
    if (expr.status().message().empty()) Fail("empty error message", text);
    return 0;
  }
  const std::string_view rest = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  const auto& zones = Zones();
  const unsigned char zone_byte = rest.empty() ? 'a' : static_cast<unsigned char>(rest[0]);
  const size_t zone = zone_byte >= 'a' && zone_byte <= 'z' ? zone_byte - 'a' : zone_byte;
  const absl::TimeZone& tz = zones[zone % zones.size()];
  const absl::Time t = absl::FromUnixSeconds(ReadSeconds(rest.empty() ? "" : rest.substr(1)));

  const std::optional<absl::Time> next = expr->NextAfter(t, tz);
  if (next) {
    if (*next <= t) Fail("NextAfter(t) <= t", text);
    const std::optional<absl::Time> back = expr->PrevBefore(*next, tz);
    if (back && *back > t) Fail("PrevBefore(NextAfter(t)) > t: NextAfter skipped a time", text);
    const std::optional<absl::Time> next2 = expr->NextAfter(*next, tz);
    if (next2 && *next2 <= *next) Fail("NextAfter not increasing", text);
  }
  const std::optional<absl::Time> prev = expr->PrevBefore(t, tz);
  if (prev) {
    if (*prev >= t) Fail("PrevBefore(t) >= t", text);
    const std::optional<absl::Time> fwd = expr->NextAfter(*prev, tz);
    if (next && !fwd) Fail("NextAfter(PrevBefore(t)) is none but NextAfter(t) is not", text);
    if (fwd && *fwd < t) Fail("NextAfter(PrevBefore(t)) < t: PrevBefore skipped a time", text);
  }
  const absl::Time to = t + absl::Hours(49);
  const std::vector<absl::Time> all = expr->AllIn(t, to, tz, 64);
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] < t || all[i] >= to) Fail("AllIn outside its range", text);
    if (i > 0 && all[i] <= all[i - 1]) Fail("AllIn not ascending", text);
  }
  if (!all.empty() && next && all[0] != *next && all[0] != t) Fail("AllIn disagrees", text);
  return 0;
}
