#pragma once
// Test helpers for src/exec: a temporary directory and a listener that records events.

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exec/job_runner.h"
#include "common/mutex_lock.h"
#include "gtest/gtest.h"

namespace hera::exec::testing {

// Waits are generous: the machine is shared, and tests assert on events, never on durations.
inline constexpr absl::Duration kWait = absl::Seconds(60);

// A RunSpec for `argv` in `work_dir`, without a script. (GCC warns about designated
// initializers that leave fields out, so tests build specs through this.)
inline RunSpec Command(int64_t run_id, std::vector<std::string> argv, std::string work_dir) {
  RunSpec spec;
  spec.run_id = run_id;
  spec.argv = std::move(argv);
  spec.work_dir = std::move(work_dir);
  return spec;
}

// A fresh directory under gtest's TempDir(), removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "hera_exec_XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Records every event per run id and checks the listener contract as it goes.
class RecordingListener : public RunListener {
 public:
  struct Events {
    std::optional<pid_t> pid;
    std::string output;
    int finished = 0;
    std::optional<Outcome> outcome;
    std::vector<std::string> violations;  // Contract breaches seen; expected empty.
    bool start_turn_done = false;         // An OnTurnDone came after OnStarted.
    bool finish_turn_done = false;        // An OnTurnDone came after OnFinished.
  };

  void OnStarted(int64_t run_id, pid_t pid) override {
    Enter();
    if (on_started_) on_started_(run_id);  // Outside mu_: it may call into the runner.
    MutexLock lock(&mu_);
    Events& e = runs_[run_id];
    if (e.pid || e.finished > 0) e.violations.push_back("OnStarted out of order");
    e.pid = pid;
    changed_.SignalAll();
    Leave();
  }
  void OnOutput(int64_t run_id, int64_t offset, std::string_view bytes) override {
    Enter();
    MutexLock lock(&mu_);
    Events& e = runs_[run_id];
    if (!e.pid || e.finished > 0) e.violations.push_back("OnOutput out of order");
    if (offset != static_cast<int64_t>(e.output.size())) {
      e.violations.push_back("offset gap at " + std::to_string(offset));
    }
    if (bytes.empty() || bytes.size() > 64 * 1024) {
      e.violations.push_back("chunk of " + std::to_string(bytes.size()) + " bytes");
    }
    e.output.append(bytes);
    changed_.SignalAll();
    Leave();
  }
  void OnFinished(int64_t run_id, const Outcome& outcome) override {
    Enter();
    MutexLock lock(&mu_);
    Events& e = runs_[run_id];
    ++e.finished;
    e.outcome = outcome;
    changed_.SignalAll();
    Leave();
  }
  void OnTurnDone() override {
    Enter();
    MutexLock lock(&mu_);
    for (auto& [id, e] : runs_) {
      e.start_turn_done = e.start_turn_done || e.pid.has_value();
      e.finish_turn_done = e.finish_turn_done || e.finished > 0;
    }
    changed_.SignalAll();
    Leave();
  }

  // Waits until `run_id` has finished `count` times; false on timeout.
  bool WaitFinished(int64_t run_id, int count = 1, absl::Duration timeout = kWait) {
    return WaitFor(run_id, timeout, [count](const Events& e) { return e.finished >= count; });
  }
  // Waits until the output of `run_id` contains `needle`; false on timeout.
  bool WaitOutput(int64_t run_id, std::string needle, absl::Duration timeout = kWait) {
    return WaitFor(run_id, timeout, [&needle](const Events& e) {
      return e.output.find(needle) != std::string::npos;
    });
  }
  // Waits until an OnTurnDone has followed the OnStarted of `run_id`; false on timeout.
  bool WaitStartTurnDone(int64_t run_id, absl::Duration timeout = kWait) {
    return WaitFor(run_id, timeout, [](const Events& e) { return e.start_turn_done; });
  }
  // Waits until an OnTurnDone has followed the OnFinished of `run_id`; false on timeout.
  bool WaitFinishTurnDone(int64_t run_id, absl::Duration timeout = kWait) {
    return WaitFor(run_id, timeout, [](const Events& e) { return e.finish_turn_done; });
  }
  // Waits until `run_id` has started or finished; false on timeout.
  bool WaitStarted(int64_t run_id, absl::Duration timeout = kWait) {
    return WaitFor(run_id, timeout,
                   [](const Events& e) { return e.pid.has_value() || e.finished > 0; });
  }
  Events Get(int64_t run_id) {
    MutexLock lock(&mu_);
    return runs_[run_id];
  }
  // Runs `hook` on the runner's thread at the start of every OnStarted. Set before the first run.
  void set_on_started(std::function<void(int64_t)> hook) { on_started_ = std::move(hook); }
  bool concurrent_calls() const { return concurrent_.load(); }

 private:
  // Waits on a condvar, not an absl::Condition: Abseil evaluates Conditions inside its own
  // (uninstrumented) code, where the TSan annotations of MutexLock cannot reach.
  template <typename Predicate>
  bool WaitFor(int64_t run_id, absl::Duration timeout, Predicate done) {
    absl::Time deadline = absl::Now() + timeout;
    MutexLock lock(&mu_);
    while (!done(runs_[run_id])) {
      if (absl::Now() >= deadline) return false;
      TsanReleasing(&mu_);  // The wait releases mu_.
      changed_.WaitWithDeadline(&mu_, deadline);
      TsanAcquired(&mu_);
    }
    return true;
  }
  void Enter() {
    if (in_callback_.fetch_add(1) != 0) concurrent_ = true;
  }
  void Leave() { in_callback_.fetch_sub(1); }

  std::function<void(int64_t)> on_started_;
  std::atomic<int> in_callback_{0};
  std::atomic<bool> concurrent_{false};
  absl::Mutex mu_;
  absl::CondVar changed_;  // Signalled on every event.
  std::map<int64_t, Events> runs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hera::exec::testing
