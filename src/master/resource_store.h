#pragma once
// The resource store on the master's disk (core/resources.h): every uploaded version kept as
// <dir>/<name>/v<N> with its metadata in <dir>/<name>/v<N>.json.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "core/resources.h"

namespace hera::master {

struct ResourceStoreOptions {
  std::string dir;                         // <data_dir>/resources; created if missing
  int64_t max_bytes = int64_t{100} << 20;  // the largest upload (--max-upload-mb); 100 MiB
};

// Writes are atomic: the content goes to a temporary file in <dir>/.tmp, is fsync'ed and
// renamed into place, then the metadata likewise; a version exists once its metadata does, so
// a crash leaves either the whole version or none (a content file without metadata is
// replaced by the next upload of that name). Thread-safe: uploads hash and write their content
// in parallel and take a lock only to choose their version number and commit.
class ResourceStore final : public core::Resources {
 public:
  // Creates the directories and removes temporary files a crash left. `clock` (upload times)
  // must outlive the store. The failing step's error otherwise.
  static absl::StatusOr<std::unique_ptr<ResourceStore>> Open(ResourceStoreOptions options,
                                                             const Clock* clock);

  int64_t max_bytes() const override { return options_.max_bytes; }
  absl::StatusOr<core::ResourceVersion> Put(std::string_view name, std::string_view content,
                                            const std::string& uploader) override;
  absl::StatusOr<std::vector<core::ResourceVersion>> List() override;
  absl::StatusOr<std::vector<core::ResourceVersion>> Versions(std::string_view name) override;
  absl::StatusOr<core::ResourceContent> Open(std::string_view name, int64_t version) override;
  // Retention: removes every version uploaded before `cutoff` but the latest of each name
  // (a job naming a resource without a version always finds one). Returns how many went.
  absl::StatusOr<int64_t> PurgeVersionsBefore(absl::Time cutoff);

 private:
  ResourceStore(ResourceStoreOptions options, const Clock* clock)
      : options_(std::move(options)), clock_(clock) {}
  // Versions of the resource in directory `name`, oldest first (none: empty).
  absl::StatusOr<std::vector<core::ResourceVersion>> ReadVersions(const std::string& name) const;

  const ResourceStoreOptions options_;
  const Clock* const clock_;
  absl::Mutex commit_mu_;  // held while a Put picks its version number and renames into place
};

}  // namespace hera::master
