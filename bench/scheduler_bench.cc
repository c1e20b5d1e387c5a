// The scheduling core alone (no IO): how many state transitions per second it applies.
// A transition is one change of a run's or an action's status (queued, running, success…).
//
//   build/release/bench/scheduler_bench
//
// Goal (DESIGN.md §9): ≥ 100,000 transitions per second.

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/scheduler.h"

namespace hera::core {
namespace {

// Bytes malloc has handed out and not taken back (glibc).
size_t HeapInUse() { return mallinfo2().uordblks + mallinfo2().hblkhd; }

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 30, 0), absl::UTCTimeZone());

// Independent manual runs: queue, dispatch, start, finish. 4 run transitions + 3 action ones.
void BM_ManualRunLifecycle(benchmark::State& state) {
  Scheduler sched;
  Effects setup;
  (void)sched.CreateGroup({{"name", "g"}}, "bench", kNow, &setup);
  auto job = sched.CreateJob({{"name", "noop"}, {"group_id", 1}, {"script", "true"}}, "bench",
                             kNow, &setup);
  sched.AddWorker({"w", 1 << 20});
  const int batch = static_cast<int>(state.range(0));
  int64_t runs = 0;
  for (auto _ : state) {
    Effects fx;
    for (int i = 0; i < batch; ++i) (void)sched.RunJob(job->id, Trigger::kManual, "b", kNow, &fx);
    sched.Dispatch(kNow, &fx);
    for (const auto& [w, order] : fx.dispatches) sched.OnRunStarted(order.run_id, w, kNow, &fx);
    for (const auto& [w, order] : fx.dispatches) {
      RunResult r;
      r.run_id = order.run_id;
      r.exit_code = 0;
      r.ended_at = kNow;
      sched.OnRunFinished(r, &fx);
    }
    runs += batch;
    benchmark::DoNotOptimize(fx);
  }
  state.counters["runs/s"] = benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["transitions/s"] =
      benchmark::Counter(static_cast<double>(runs) * 7, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ManualRunLifecycle)->Arg(1000)->Unit(benchmark::kMillisecond);

// A dependency chain fired by a recovery of its root: each hop is an upstream success that
// makes the next action ready in the same step (event-driven, no scan).
void BM_ChainPropagation(benchmark::State& state) {
  const int length = static_cast<int>(state.range(0));
  int64_t hops = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Scheduler sched;
    Effects setup;
    (void)sched.CreateGroup({{"name", "g"}}, "bench", kNow, &setup);
    (void)sched.CreateJob({{"name", "j0"}, {"group_id", 1}, {"enabled", true},
                           {"schedule", {{"cron", "0 0 3 * * ?"}, {"timezone", "UTC"}}}},
                          "bench", kNow, &setup);
    for (int i = 1; i < length; ++i) {
      (void)sched.CreateJob({{"name", "j" + std::to_string(i)}, {"group_id", 1}, {"enabled", true},
                             {"schedule", {{"depends_on", {{{"job_id", i}}}}}}},
                            "bench", kNow, &setup);
    }
    sched.AddWorker({"w", 1 << 20});
    auto root = sched.actions().FindByKey(
        {1, absl::FromCivil(absl::CivilSecond(2026, 11, 23, 3, 0, 0), absl::UTCTimeZone())});
    state.ResumeTiming();
    Effects fx;
    (void)sched.RecoverAction(*root, "bench", kNow, &fx);
    sched.Dispatch(kNow, &fx);
    std::vector<DispatchOrder> ready;
    for (auto& [w, o] : fx.dispatches) ready.push_back(o);
    while (!ready.empty()) {
      Effects step;
      for (const auto& order : ready) {
        sched.OnRunStarted(order.run_id, "w", kNow, &step);
        RunResult r;
        r.run_id = order.run_id;
        r.exit_code = 0;
        r.ended_at = kNow;
        sched.OnRunFinished(r, &step);
        ++hops;
      }
      sched.Dispatch(kNow, &step);
      ready.clear();
      for (auto& [w, o] : step.dispatches) ready.push_back(o);
    }
  }
  state.counters["hops/s"] = benchmark::Counter(static_cast<double>(hops), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ChainPropagation)->Arg(200)->Arg(2000)->Unit(benchmark::kMillisecond);

// Saving jobs one by one (each save plans its own actions at once): the cost per save must not
// grow with the number of jobs already there.
void BM_CreateJobs(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Scheduler sched;
    Effects fx;
    (void)sched.CreateGroup({{"name", "g"}}, "bench", kNow, &fx);
    for (int i = 0; i < n; ++i) {
      nlohmann::json body{{"name", "j" + std::to_string(i)}, {"group_id", 1}, {"enabled", true}};
      if (i % 10 == 0) {
        body["schedule"] = {{"cron", "0 0 * * * ?"}, {"timezone", "UTC"}};
      } else {
        body["schedule"] = {{"depends_on", {{{"job_id", i}}}}};  // chains of 10
      }
      (void)sched.CreateJob(body, "bench", kNow, &fx);
    }
    benchmark::DoNotOptimize(fx);
  }
  state.counters["saves/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CreateJobs)->Arg(2000)->Arg(20000)->Unit(benchmark::kMillisecond);

// 100,000 jobs: hourly and daily roots, each followed by a chain of 9 dependent jobs.
StoredState HundredThousandJobs(int n) {
  StoredState base;
  Group g;
  g.id = 1;
  g.name = "g";
  base.groups.push_back(g);
  for (int i = 1; i <= n; ++i) {
    Job j;
    j.id = i;
    j.group_id = 1;
    j.name = "j" + std::to_string(i);
    j.enabled = true;
    j.schedule.timezone = "UTC";
    if (i % 10 == 1) {
      j.schedule.cron = i % 20 == 1 ? "0 0 * * * ?" : "0 0 3 * * ?";
    } else {
      j.schedule.depends_on.push_back({i - 1, DependencyPeriod::kNearest});
    }
    base.jobs.push_back(j);
  }
  base.max_ids = {1, n, 0, 0};
  return base;
}

// A restart with 100,000 jobs (hourly, daily and chains 10 deep): load and plan the window.
void BM_RestoreAndPlan(benchmark::State& state) {
  const StoredState base = HundredThousandJobs(static_cast<int>(state.range(0)));
  size_t actions = 0;
  double bytes_per_action = 0;
  for (auto _ : state) {
    state.PauseTiming();
    StoredState copy = base;
    const size_t heap_before = HeapInUse();
    auto sched = std::make_unique<Scheduler>();
    auto fx = std::make_unique<Effects>();
    state.ResumeTiming();
    sched->Restore(std::move(copy), kNow, fx.get());
    state.PauseTiming();
    actions = fx->batch.actions.size();
    // What the scheduler keeps once the store batch is written and gone: the jobs (moved in)
    // and every action of the window with its indexes, per action in the book.
    fx.reset();
    bytes_per_action = static_cast<double>(HeapInUse() - heap_before) /
                       static_cast<double>(sched->actions().size());
    sched.reset();  // tearing down is not part of a restart
    state.ResumeTiming();
  }
  state.counters["actions"] = static_cast<double>(actions);
  state.counters["heap_B/action"] = bytes_per_action;
}
BENCHMARK(BM_RestoreAndPlan)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);

// A restart whose actions are already in the store (planned before it stopped): the book is
// rebuilt from them and the plan only confirms them.
void BM_RestoreExisting(benchmark::State& state) {
  StoredState planned = HundredThousandJobs(static_cast<int>(state.range(0)));
  {
    Scheduler first;
    Effects fx;
    first.Restore(planned, kNow, &fx);
    planned.unfinished_actions = std::move(fx.batch.actions);
    planned.max_ids.action = static_cast<ActionId>(planned.unfinished_actions.size());
  }
  size_t written = 0;
  for (auto _ : state) {
    state.PauseTiming();
    StoredState copy = planned;
    auto sched = std::make_unique<Scheduler>();
    auto fx = std::make_unique<Effects>();
    state.ResumeTiming();
    sched->Restore(std::move(copy), kNow, fx.get());
    state.PauseTiming();
    written = fx->batch.actions.size();
    fx.reset();
    sched.reset();
    state.ResumeTiming();
  }
  state.counters["actions"] = static_cast<double>(planned.unfinished_actions.size());
  state.counters["written"] = static_cast<double>(written);
}
BENCHMARK(BM_RestoreExisting)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);

// Midnight with 100,000 jobs: the next day's actions are planned while the engine goes on.
// Reports the longest single Tick (the engine's pause) and the ticks it took.
void BM_DayRollover(benchmark::State& state) {
  const absl::Time before = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 23, 59, 0),
                                            absl::UTCTimeZone());
  std::vector<double> tick_ms;
  size_t planned = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto sched = std::make_unique<Scheduler>(absl::UTCTimeZone());
    {
      Effects fx;
      sched->Restore(HundredThousandJobs(static_cast<int>(state.range(0))), before, &fx);
      sched->Tick(before, &fx);
    }
    state.ResumeTiming();
    absl::Time now = before + absl::Minutes(1);
    tick_ms.clear();
    planned = 0;
    do {
      Effects fx;
      const absl::Time t0 = absl::Now();
      sched->Tick(now, &fx);
      tick_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      planned += fx.batch.actions.size();
      now += absl::Milliseconds(1);
    } while (sched->NextWakeTime() && *sched->NextWakeTime() <= now);
    state.PauseTiming();
    sched.reset();
    state.ResumeTiming();
  }
  state.counters["first_tick_ms"] = tick_ms.front();
  state.counters["ticks"] = static_cast<double>(tick_ms.size());
  std::sort(tick_ms.begin(), tick_ms.end());
  state.counters["longest_tick_ms"] = tick_ms.back();
  state.counters["median_tick_ms"] = tick_ms[tick_ms.size() / 2];
  state.counters["actions_written"] = static_cast<double>(planned);
}
BENCHMARK(BM_DayRollover)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace hera::core

BENCHMARK_MAIN();
