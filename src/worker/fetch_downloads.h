#pragma once
// Step 1 of a run on a worker (SEMANTICS.md §7): the files its `download[uri name]` lines name,
// fetched into its work directory before the process starts.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace hera::worker {

// Opens version `version` (0: the latest) of resource `name`; NotFound naming what is missing.
using OpenResource =
    std::function<absl::StatusOr<UniqueFd>(const std::string& name, int64_t version)>;

struct FetchOptions {
  // hera:// from the resource store of this process (the in-process worker). Unset: over HTTP
  // from resource_url.
  OpenResource open_resource;
  // The master's HTTP base URL as workers reach it ("http://10.0.0.5:8080"); hera://NAME is
  // GET <resource_url>/internal/v1/resources/NAME/content with the cluster token.
  std::string resource_url;
  std::string token;  // the cluster token
  // hdfs://: this command with the URI and the destination appended; split on spaces and run
  // directly, never through a shell.
  std::string hdfs_get = "hdfs dfs -get";
  absl::Duration timeout = absl::Minutes(10);  // each download
  // The hdfs command's environment ("KEY=value"); empty: this process's.
  std::vector<std::string> env;
};

// A run's downloads: (uri, name) pairs in script order (core::DispatchOrder::downloads).
struct FetchJob {
  std::vector<std::pair<std::string, std::string>> downloads;
  std::string work_dir;  // created (mkdir -p, mode 0700) if missing
  // Files of the run's own that a download must not replace (its script); output.log always.
  std::vector<std::string> reserved_names;
};

// The URL to fetch hera:// resources from: the master's `advertised` URL (Registered.
// resource_url) with a wildcard or empty host (0.0.0.0, [::]) replaced by the host of
// `master_address` ("host:port", as given to --master), since a master listening on every
// address cannot know which one its workers reach. Empty when `advertised` is.
std::string ResolveResourceUrl(std::string_view advertised, std::string_view master_address);

// Fetches every download of `job`, in order, into work_dir/<name>: hera://NAME[?version=N],
// file:///absolute/path (a copy), http(s):// (2xx only) and hdfs:// (options.hdfs_get). Each
// file appears under its name only once whole (fetched to a temporary name, then renamed).
// Stops at the first failure: "download <uri> failed: <why>", with the code of the cause
// (InvalidArgument for a bad URI or name, NotFound, DeadlineExceeded, Cancelled when
// `*cancel` (may be null) turned true, ...).
absl::Status FetchDownloads(const FetchJob& job, const FetchOptions& options,
                            const std::atomic<bool>* cancel);

}  // namespace hera::worker
