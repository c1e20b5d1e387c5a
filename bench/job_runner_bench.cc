// The worker's process layer alone, against the machine's floor: 1,000 shell no-ops (`bash
// script.sh` running `true`), two at a time, through exec::JobRunner (work dir, script file,
// pipe, ledger, group checks, reap) and as bare posix_spawn + waitpid from two threads. What the
// runner adds per run is the difference; the rest of W3's cost is the engine and the store.
//
// Work dirs go under $TMPDIR (default /tmp); use a tmpfs to leave the disk out.

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "exec/job_runner.h"
#include "exec/program_lookup.h"

extern char** environ;

namespace hera::exec {
namespace {

constexpr int kRuns = 1000;
constexpr int kSlots = 2;

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/hera-runner-bench-XXXXXX");
  if (!::mkdtemp(tmpl.data())) std::abort();
  return tmpl;
}

// CPU seconds of this process (RUSAGE_SELF) or of its reaped children (RUSAGE_CHILDREN).
double CpuSeconds(int who) {
  rusage usage{};
  ::getrusage(who, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Counts finished runs; the benchmark waits for all of them.
class CountingListener : public RunListener {
 public:
  void OnStarted(int64_t, pid_t) override {}
  void OnOutput(int64_t, int64_t, std::string_view) override {}
  void OnFinished(int64_t, const Outcome& outcome) override {
    absl::MutexLock lock(&mu_);
    if (!std::holds_alternative<Exited>(outcome.how) || std::get<Exited>(outcome.how).code != 0) {
      ++failed_;
    }
    ++finished_;
  }
  // Waits until `n` runs have finished; returns how many of them failed.
  int Wait(int n) {
    absl::MutexLock lock(&mu_);
    target_ = n;
    mu_.Await(absl::Condition(this, &CountingListener::Reached));
    finished_ -= n;
    return std::exchange(failed_, 0);
  }

 private:
  absl::Mutex mu_;
  bool Reached() const { return finished_ >= target_; }

  int finished_ = 0;
  int failed_ = 0;
  int target_ = 0;
};

void BM_JobRunnerBashNoops(benchmark::State& state) {
  const std::string dir = MakeTempDir();
  CountingListener listener;
  JobRunnerOptions options;
  options.ledger_dir = dir + "/ledger";
  options.max_running = kSlots;
  std::filesystem::create_directories(options.ledger_dir);
  auto runner = JobRunner::Create(&listener, options);
  if (!runner.ok()) {
    state.SkipWithError(std::string(runner.status().message()).c_str());
    return;
  }
  int64_t next_id = 1;
  const double cpu_before = CpuSeconds(RUSAGE_SELF);
  const double child_cpu_before = CpuSeconds(RUSAGE_CHILDREN);
  for (auto _ : state) {
    for (int i = 0; i < kRuns; ++i) {
      RunSpec spec;
      spec.run_id = next_id++;
      spec.argv = {"bash", "script.sh"};
      spec.script = "true\n";
      spec.script_name = "script.sh";
      spec.work_dir = absl::StrCat(dir, "/work/", spec.run_id);
      if (!(*runner)->Start(std::move(spec)).ok()) std::abort();
    }
    if (listener.Wait(kRuns) != 0) state.SkipWithError("a run failed");
  }
  // This process's own CPU (every thread, not the children): the runner's cost per run.
  const double runs = static_cast<double>(state.iterations()) * kRuns;
  state.counters["runner_cpu_us_per_run"] = (CpuSeconds(RUSAGE_SELF) - cpu_before) * 1e6 / runs;
  // The jobs' own CPU: what the runner's set-up of a process costs inside the process.
  state.counters["job_cpu_us_per_run"] = (CpuSeconds(RUSAGE_CHILDREN) - child_cpu_before) * 1e6 / runs;
  runner->reset();
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kRuns);
}
BENCHMARK(BM_JobRunnerBashNoops)->Unit(benchmark::kMillisecond)->UseRealTime();

// The floor: what the runner does per run, minus everything but the process itself.
void BM_PosixSpawnBashNoops(benchmark::State& state) {
  const std::string dir = MakeTempDir();
  std::ofstream(dir + "/script.sh") << "true\n";
  auto bash = ProgramLookup::Shared().Find("bash", {}, dir, absl::Now());
  if (!bash.ok()) {
    state.SkipWithError("no bash");
    return;
  }
  const std::string script = dir + "/script.sh";
  const double child_cpu_before = CpuSeconds(RUSAGE_CHILDREN);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kSlots; ++t) {
      threads.emplace_back([&] {
        char* argv[] = {const_cast<char*>("bash"), const_cast<char*>(script.c_str()), nullptr};
        for (int i = 0; i < kRuns / kSlots; ++i) {
          pid_t pid;
          if (::posix_spawn(&pid, bash->c_str(), nullptr, nullptr, argv, environ) != 0) {
            std::abort();
          }
          int status;
          ::waitpid(pid, &status, 0);
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  state.counters["job_cpu_us_per_run"] = (CpuSeconds(RUSAGE_CHILDREN) - child_cpu_before) * 1e6 /
                                        (static_cast<double>(state.iterations()) * kRuns);
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * kRuns);
}
BENCHMARK(BM_PosixSpawnBashNoops)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace hera::exec

BENCHMARK_MAIN();
