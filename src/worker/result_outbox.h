#pragma once
// The worker's durable outbox (DESIGN §2): each finished run's result is kept on disk until the
// master acknowledges it, so a result survives a master that is away and a worker killed with
// kill -9, and is re-sent after the next (re)connect.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace hera::worker {

// What the worker reports when a run ends.
struct ResultRecord {
  int64_t run_id = 0;
  int64_t term = 0;     // The term of the Dispatch that started the run.
  int exit_code = 0;    // Meaningful when signal == 0.
  int signal = 0;       // The signal that ended the main process; 0 if it exited.
  std::string status;   // "success", "failed" or "cancelled".
  std::string reason;   // One line for the UI, e.g. "killed by signal 9 (timeout after 30s)".
  int64_t log_bytes = 0;  // Final size of the run's log.
  absl::Time ended_at;    // Stored with microsecond precision.

  friend bool operator==(const ResultRecord&, const ResultRecord&) = default;
};

struct ResultOutboxOptions {
  // Compaction rewrites the file once the bytes of acknowledged (or superseded) entries exceed
  // both this and the bytes of the pending ones. Default 64 KiB.
  int64_t compact_min_garbage_bytes = 64 * 1024;
};

// One append-only file, <dir>/outbox.log: an 8-byte magic, then entries framed as
//   [u32 payload length][u32 crc32c of length+payload][payload]   (little-endian)
// whose payload is a Put (a whole ResultRecord) or an Ack (a run id). Replaying the entries in
// order gives the pending records. Every Put and Ack is written and fdatasync'ed before it
// returns. A crash mid-append leaves a torn or corrupt tail; Open ignores everything from the
// first bad entry on and truncates it away (so corruption in the middle of the file also loses
// the entries after it: their runs then look lost to the master and are retried per policy).
//
// A <dir>/LOCK file held with flock keeps a second worker (or a second Open in this process)
// off the same directory. Thread-safe; calls are serialized, and each waits for the disk.
class ResultOutbox {
 public:
  // Creates `dir` (mkdir -p) and the file if needed, or replays the existing file, truncating a
  // torn tail. FailedPrecondition if another ResultOutbox holds `dir`, DataLoss if the file is
  // not an outbox, otherwise the failing system call with its path.
  static absl::StatusOr<std::unique_ptr<ResultOutbox>> Open(const std::string& dir,
                                                            ResultOutboxOptions options = {});
  ResultOutbox(const ResultOutbox&) = delete;
  ResultOutbox& operator=(const ResultOutbox&) = delete;

  // Stores `record` durably; it replaces a pending record with the same run id (and moves it to
  // the end of the order). On a write error nothing is stored and later calls may succeed. A
  // failed fdatasync (or directory fsync after a compaction) is sticky: this and every later
  // Put and Ack fail with it, since durability can no longer be promised; reopen to recover.
  absl::Status Put(const ResultRecord& record);
  // Durably forgets the pending record of `run_id`; OK (and no write) if there is none.
  // May compact the file afterwards (see ResultOutboxOptions).
  absl::Status Ack(int64_t run_id);
  // Records not yet acknowledged, in the order of their (latest) Put.
  std::vector<ResultRecord> Pending() const;
  // Current size of the outbox file, in bytes.
  int64_t file_bytes() const;

 private:
  struct Entry {
    ResultRecord record;
    int64_t bytes = 0;  // Size of its framed Put entry in the file.
  };

  ResultOutbox(std::string dir, ResultOutboxOptions options, UniqueFd lock)
      : dir_(std::move(dir)), options_(options), lock_(std::move(lock)) {}

  absl::Status Replay() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends one framed entry; with `sync`, durable (fdatasync) before it returns.
  absl::Status Append(const std::string& framed, bool sync = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Insert(ResultRecord record, int64_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(int64_t run_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MaybeCompact() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Rewrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string path() const;

  const std::string dir_;
  const ResultOutboxOptions options_;
  const UniqueFd lock_;  // flock'ed <dir>/LOCK, held for the outbox's lifetime.

  // Protected by mu_
  mutable absl::Mutex mu_;
  UniqueFd fd_ ABSL_GUARDED_BY(mu_);  // outbox.log, positioned at its end (file_bytes_).
  int64_t file_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t live_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // Sum of pending entries' bytes.
  absl::Status broken_ ABSL_GUARDED_BY(mu_);     // Sticky error after a failed sync.
  // Pending records by put sequence (so iteration is put order), and their index by run id.
  int64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, Entry> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, int64_t> seq_of_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hera::worker
