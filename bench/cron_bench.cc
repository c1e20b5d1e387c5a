// Cron engine: parse, and next-time computations per second on one thread.
// Each NextAfter benchmark chains t = NextAfter(t) from 2026-01-01 (restarting there when the
// expression has no further time), so it walks real calendars, month ends and DST changes.

#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cron/cron_expr.h"

namespace {

using hera::cron::CronExpr;

absl::TimeZone Zone(const char* name) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz)) tz = absl::UTCTimeZone();
  return tz;
}

const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

void BM_Parse(benchmark::State& state, const char* text) {
  for (auto _ : state) {
    auto e = CronExpr::Parse(text);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_NextAfter(benchmark::State& state, const char* text, const char* zone) {
  const CronExpr e = *CronExpr::Parse(text);
  const absl::TimeZone tz = Zone(zone);
  absl::Time t = kStart;
  for (auto _ : state) {
    const std::optional<absl::Time> next = e.NextAfter(t, tz);
    t = next ? *next : kStart;
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PrevBefore(benchmark::State& state, const char* text, const char* zone) {
  const CronExpr e = *CronExpr::Parse(text);
  const absl::TimeZone tz = Zone(zone);
  const absl::Time end = kStart + absl::Hours(24 * 365);
  absl::Time t = end;
  for (auto _ : state) {
    const std::optional<absl::Time> prev = e.PrevBefore(t, tz);
    t = prev ? *prev : end;
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations());
}

// One day of action generation for an every-5-minutes job: 288 times per iteration.
void BM_AllInOneDay(benchmark::State& state, const char* text, const char* zone) {
  const CronExpr e = *CronExpr::Parse(text);
  const absl::TimeZone tz = Zone(zone);
  size_t n = 0;
  for (auto _ : state) {
    const std::vector<absl::Time> all = e.AllIn(kStart, kStart + absl::Hours(24), tz);
    n += all.size();
    benchmark::DoNotOptimize(all.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}

BENCHMARK_CAPTURE(BM_Parse, every_5_min, "0 */5 * * * ?");
BENCHMARK_CAPTURE(BM_Parse, weekdays_3am, "0 0 3 ? * MON-FRI");
BENCHMARK_CAPTURE(BM_Parse, complex,
                  "0 57,20/20,30/20,32-34/2,58 8-18 1W,15,LW,L-3W JAN-MAR,SEP ? 2026-2199/3");
BENCHMARK_CAPTURE(BM_Parse, unix, "*/15 9-17 * * 1-5");

BENCHMARK_CAPTURE(BM_NextAfter, every_5_min_utc, "0 */5 * * * ?", "UTC");
BENCHMARK_CAPTURE(BM_NextAfter, every_5_min_new_york, "0 */5 * * * ?", "America/New_York");
BENCHMARK_CAPTURE(BM_NextAfter, weekdays_3am_new_york, "0 0 3 ? * MON-FRI", "America/New_York");
BENCHMARK_CAPTURE(BM_NextAfter, last_weekday_utc, "0 0 0 LW * ?", "UTC");
BENCHMARK_CAPTURE(BM_NextAfter, fixed_hour_in_overlap_lord_howe, "0 */10 1 * * ?",
                  "Australia/Lord_Howe");
// Pathological: never fires, so every call searches the whole 400-year horizon.
BENCHMARK_CAPTURE(BM_NextAfter, never_feb_30, "0 0 0 30 2 ?", "UTC");
// Pathological: fires once in 28 years or more (5th Monday of February).
BENCHMARK_CAPTURE(BM_NextAfter, rare_5th_monday_feb, "0 0 0 ? 2 MON#5", "UTC");
BENCHMARK_CAPTURE(BM_NextAfter, every_second_new_york, "* * * * * ?", "America/New_York");

BENCHMARK_CAPTURE(BM_PrevBefore, every_5_min_new_york, "0 */5 * * * ?", "America/New_York");
BENCHMARK_CAPTURE(BM_PrevBefore, never_feb_30, "0 0 0 30 2 ?", "UTC");

BENCHMARK_CAPTURE(BM_AllInOneDay, every_5_min_new_york, "0 */5 * * * ?", "America/New_York");

}  // namespace

BENCHMARK_MAIN();
