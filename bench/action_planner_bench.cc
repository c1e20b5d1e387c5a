// Action planning and job-graph checks at the scale of a large deployment: 100,000 jobs,
// 40% hourly crons, 40% daily crons, 20% dependent jobs in chains 10 deep (each chain hangs
// off a timed job), a quarter of them in America/New_York and the rest in the default zone
// (Asia/Shanghai); one civil day planned.
//
// Counters: actions per plan; est_B/action, the bytes the returned plan holds per action
// (sizeof + heap of each PlannedAction, from capacities); heap_B/action, the same measured:
// glibc's bytes in use (mallinfo2) with the plan alive minus before it (the planner's
// temporaries freed).

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/action_planner.h"
#include "core/job_graph.h"

namespace {

using hera::core::ActionKey;
using hera::core::Dependency;
using hera::core::DependencyPeriod;
using hera::core::Job;
using hera::core::JobGraph;
using hera::core::JobId;
using hera::core::PlanActions;
using hera::core::PlanInput;
using hera::core::PlannedAction;

constexpr int kChainDepth = 10;

absl::TimeZone Zone(const char* name) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(name, &tz)) tz = absl::UTCTimeZone();
  return tz;
}

// `unique_crons`: every timed job gets its own expression (seconds and minutes vary), so the
// planner's per-expression cache never hits; otherwise expressions repeat as they do in
// practice (an hourly job picks one of 60 minutes, a daily one of 1,440 minutes).
std::vector<Job> MakeJobs(int n, bool unique_crons) {
  std::vector<Job> jobs(static_cast<size_t>(n));
  const int dependent = n / 5;
  const int timed = n - dependent;
  for (int i = 0; i < n; ++i) {
    Job& j = jobs[static_cast<size_t>(i)];
    j.id = i + 1;
    j.enabled = true;
    if (i % 4 == 3) j.schedule.timezone = "America/New_York";
    if (i < timed) {
      const int s = unique_crons ? i % 60 : 0;
      const int m = unique_crons ? (i / 60) % 60 : i % 60;
      const int h = unique_crons ? (i / 3600) % 24 : (i / 60) % 24;
      j.schedule.cron = i % 2 == 0 ? absl::StrCat(s, " ", m, " * * * ?")
                                   : absl::StrCat(s, " ", m, " ", h, " * * ?");
    } else {
      const int k = i - timed;  // position among the dependent jobs
      const JobId up = k % kChainDepth == 0 ? 1 + (k / kChainDepth) % timed : j.id - 1;
      j.schedule.depends_on.push_back(Dependency{up, DependencyPeriod::kNearest});
    }
  }
  return jobs;
}

PlanInput MakeInput(const std::vector<Job>& jobs) {
  PlanInput in;
  for (const Job& j : jobs) in.jobs.push_back(&j);
  in.default_tz = Zone("Asia/Shanghai");
  in.from = absl::FromCivil(absl::CivilDay(2026, 11, 23), in.default_tz);
  in.to = in.from + absl::Hours(24);
  return in;
}

size_t PlanBytes(const std::vector<PlannedAction>& plan) {
  size_t bytes = plan.capacity() * sizeof(PlannedAction);
  for (const PlannedAction& a : plan) {
    bytes += a.upstream.capacity() * sizeof(ActionKey);
    if (a.blocked_reason.capacity() > std::string().capacity()) {
      bytes += a.blocked_reason.capacity() + 1;
    }
  }
  return bytes;
}

size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

void BM_PlanOneDay(benchmark::State& state, bool unique_crons) {
  const std::vector<Job> jobs = MakeJobs(static_cast<int>(state.range(0)), unique_crons);
  const PlanInput in = MakeInput(jobs);
  const size_t heap_before = HeapInUse();
  size_t actions = 0, bytes = 0, heap = 0;
  {
    const auto plan = PlanActions(in);
    if (!plan.ok()) {
      state.SkipWithError(std::string(plan.status().message()).c_str());
      return;
    }
    heap = HeapInUse() - heap_before;
    actions = plan->size();
    bytes = PlanBytes(*plan);
  }
  for (auto _ : state) {
    auto plan = PlanActions(in);
    benchmark::DoNotOptimize(plan);
  }
  state.counters["actions"] = static_cast<double>(actions);
  state.counters["est_B/action"] = static_cast<double>(bytes) / static_cast<double>(actions);
  state.counters["heap_B/action"] = static_cast<double>(heap) / static_cast<double>(actions);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(actions));
}

void BM_JobGraphBuildAndOrder(benchmark::State& state) {
  const std::vector<Job> jobs = MakeJobs(static_cast<int>(state.range(0)), false);
  std::vector<const Job*> ptrs;
  for (const Job& j : jobs) ptrs.push_back(&j);
  for (auto _ : state) {
    const JobGraph g = JobGraph::FromJobs(ptrs);
    auto order = g.TopologicalOrder();
    benchmark::DoNotOptimize(order);
  }
}

// The worst save check: 100,000 jobs in one chain; making the head depend on the tail.
void BM_FindCycleIfSavedLongChain(benchmark::State& state) {
  const JobId n = state.range(0);
  std::vector<JobGraph::Entry> entries;
  for (JobId i = 1; i <= n; ++i) {
    entries.push_back({i, i > 1 ? std::vector<JobId>{i - 1} : std::vector<JobId>{}});
  }
  const JobGraph g(entries);
  for (auto _ : state) {
    auto cycle = hera::core::FindCycleIfSaved(g, 1, {n});
    benchmark::DoNotOptimize(cycle);
  }
}

BENCHMARK_CAPTURE(BM_PlanOneDay, shared_crons, false)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_PlanOneDay, unique_crons, true)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_JobGraphBuildAndOrder)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FindCycleIfSavedLongChain)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
