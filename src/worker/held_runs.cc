#include "worker/held_runs.h"

#include <algorithm>

#include "common/mutex_lock.h"

namespace hera::worker {

bool HeldRuns::Add(int64_t run_id, uint64_t term, std::string work_dir) {
  MutexLock lock(&mu_);
  Entry entry;
  entry.run.run_id = run_id;
  entry.run.term = term;
  entry.run.work_dir = std::move(work_dir);
  if (!runs_.emplace(run_id, std::move(entry)).second) return false;
  abandoned_.erase(run_id);  // Dispatched again: the master wants it after all.
  return true;
}

std::optional<HeldRun> HeldRuns::Remove(int64_t run_id) {
  MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  HeldRun run = std::move(it->second.run);
  runs_.erase(it);
  return run;
}

std::optional<HeldRun> HeldRuns::Get(int64_t run_id) const {
  MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return std::nullopt;
  return it->second.run;
}

bool HeldRuns::Contains(int64_t run_id) const {
  MutexLock lock(&mu_);
  return runs_.contains(run_id);
}

std::vector<HeldRun> HeldRuns::Snapshot() const {
  MutexLock lock(&mu_);
  std::vector<HeldRun> runs;
  runs.reserve(runs_.size());
  for (const auto& [id, entry] : runs_) {
    if (!abandoned_.contains(id)) runs.push_back(entry.run);
  }
  return runs;
}

void HeldRuns::MarkStarted(int64_t run_id, pid_t pid, absl::Time at) {
  MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  it->second.run.started = true;
  it->second.run.pid = pid;
  it->second.run.started_at = at;
}

void HeldRuns::MarkAnnounced(int64_t run_id) {
  MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it != runs_.end()) it->second.run.announced = true;
}

bool HeldRuns::TakeAnnouncement(int64_t run_id) {
  MutexLock lock(&mu_);
  if (abandoned_.contains(run_id)) return false;
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return true;
  HeldRun& run = it->second.run;
  if (!run.started || run.announced) return false;
  run.announced = true;
  return true;
}

bool HeldRuns::AddOutput(int64_t run_id, int64_t offset, std::string_view bytes) {
  MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return false;
  Entry& entry = it->second;
  entry.run.produced = std::max(entry.run.produced, offset + static_cast<int64_t>(bytes.size()));
  entry.scanner.Feed(bytes);
  return !abandoned_.contains(run_id);
}

std::vector<std::string> HeldRuns::ExternalJobIds(int64_t run_id) const {
  MutexLock lock(&mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return {};
  // An id at the very end of the log so far counts too: the run is being killed, its log may
  // never go on. Finish() a copy, since the real log may still go on.
  exec::ExternalJobScanner scanner = it->second.scanner;
  scanner.Finish();
  return scanner.ids();
}

void HeldRuns::Abandon(int64_t run_id) {
  MutexLock lock(&mu_);
  abandoned_.insert(run_id);
}

bool HeldRuns::IsAbandoned(int64_t run_id) const {
  MutexLock lock(&mu_);
  return abandoned_.contains(run_id);
}

}  // namespace hera::worker
