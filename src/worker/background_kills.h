#pragma once
// Kills of the YARN applications and MapReduce jobs a cancelled run announced (SEMANTICS §7),
// each on its own thread: one kill is a JVM start-up or more, and the connection thread that
// received the Cancel must go on reading.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exec/external_jobs.h"

namespace hera::worker {

// Thread-safe. Destruction joins every kill still running (each ends by its deadline).
class BackgroundKills {
 public:
  BackgroundKills(exec::KillCommands commands, absl::Duration deadline)
      : commands_(std::move(commands)), deadline_(deadline) {}
  ~BackgroundKills() { JoinAll(); }
  BackgroundKills(const BackgroundKills&) = delete;
  BackgroundKills& operator=(const BackgroundKills&) = delete;

  // Starts killing `ids` (of run `run_id`, for the log) with exec::KillExternalJobs; each kill
  // that fails is logged. Nothing happens for an empty list.
  void Launch(int64_t run_id, std::vector<std::string> ids);
  // Waits for every launched kill to end.
  void JoinAll();

 private:
  struct Job {
    std::thread thread;
    std::shared_ptr<bool> done;  // Set (under mu_) by the thread as it ends.
  };
  // Joins the jobs that have ended, so a long-lived agent does not pile up threads.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const exec::KillCommands commands_;
  const absl::Duration deadline_;

  // Protected by mu_
  absl::Mutex mu_;
  std::vector<Job> jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hera::worker
