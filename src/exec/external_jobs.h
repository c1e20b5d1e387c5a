#pragma once
// YARN applications and MapReduce jobs that a run started outside its process group: found in
// the run's log and killed on cancel (SEMANTICS §7), since killing the group only kills the
// client (hive, spark-submit), not what it submitted to the cluster.

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace hera::exec {

// Finds ids matching `application_\d+_\d+` and `job_\d+_\d+` in a log fed in chunks of any size
// (an id may be split between chunks), e.g. "Submitted application application_1700000000000_42"
// or "Starting Job = job_1700000000000_0042, Tracking URL = .../application_1700000000000_0042/".
// The prefix must not follow a letter, digit or '_' (so "myjob_1_2" is no id). Keeps only a
// short tail of the log, so memory stays bounded whatever the line lengths (progress bars
// rewrite one line with '\r' for hours). Not thread-safe.
class ExternalJobScanner {
 public:
  // Scans the next bytes of the log. An id touching the end of `chunk` waits for the next
  // chunk (its digits may go on) or Finish().
  void Feed(std::string_view chunk);
  // The log is complete: accepts an id that ends it.
  void Finish();
  // Distinct ids found so far, in order of first appearance.
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  // Adds the new complete ids in buffer_ (with `final`, also one that ends it), then drops
  // all but its last kTail bytes (all of them with `final`).
  void Scan(bool final);

  std::string buffer_;    // The log's last bytes: at most kTail (in the .cc) between calls.
  bool at_start_ = true;  // buffer_ begins at the start of the log (nothing precedes it).
  std::vector<std::string> ids_;
  absl::flat_hash_set<std::string> seen_;
};

// Returns the ids in `log`, as ExternalJobScanner would after Feed(log) and Finish().
std::vector<std::string> FindExternalJobs(std::string_view log);

// True if `id` is a whole YARN application id or MapReduce job id.
bool IsExternalJobId(std::string_view id);

struct KillCommands {
  // The id is appended as the last argument. Split on spaces and run directly, never through a
  // shell; the program is looked up in the PATH of `env` unless it contains a '/'. Empty: ids of
  // that kind are not killed (FailedPrecondition).
  std::string yarn = "yarn application -kill";
  std::string mapred = "mapred job -kill";
  // The commands' environment ("KEY=value"). Empty (the default): this process's environment.
  std::vector<std::string> env;
  // Where the commands' stdout and stderr go (the caller keeps its fd), e.g. the run's log.
  // -1 (the default): /dev/null.
  int output_fd = -1;
  // Commands running at once: each is a JVM start-up. Default 4.
  int max_parallel = 4;
};

// What happened to one id.
struct ExternalKillResult {
  std::string id;
  // OK if the command exited 0. Otherwise: InvalidArgument (not an id), FailedPrecondition (no
  // command for its kind), the spawn error (e.g. NotFound: program not in PATH), Unknown
  // ("exit code 255", "killed by signal 9") or DeadlineExceeded (killed at the deadline, or
  // not started before it).
  absl::Status status;
};

// Runs the kill command of each id, at most max_parallel at once, each in its own process
// group with stdin from /dev/null and cwd "/". At `deadline` the groups still running are
// killed with SIGKILL, so a hung client cannot hold up a cancel. Returns one result per id, in
// the order of `ids`. Blocks until every command has ended or been killed and reaped. Must not
// run where SIGCHLD is ignored or another thread reaps children it does not own (waitpid(-1)).
std::vector<ExternalKillResult> KillExternalJobs(const std::vector<std::string>& ids,
                                                 const KillCommands& commands,
                                                 absl::Time deadline);

}  // namespace hera::exec
