#pragma once
// The resource store's port: files uploaded once (`hera://name`) and fetched into the work
// directory of every run whose script says `download[hera://name ...]` (SEMANTICS.md §7).
// The implementation lives in master/resource_store.h; the API and the in-process worker see
// only this.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/unique_fd.h"

namespace hera::core {

// One stored version of a resource. Versions count up from 1 per name; none is ever replaced.
struct ResourceVersion {
  std::string name;
  int64_t version = 0;
  int64_t size = 0;    // bytes
  std::string sha256;  // lower-case hex of the content
  std::string uploader;
  absl::Time uploaded_at = absl::UnixEpoch();
};

// A version opened for reading: `fd` reads its content from the start.
struct ResourceContent {
  ResourceVersion meta;
  UniqueFd fd;
};

// Thread-safe. Errors name what is wrong and change nothing.
class Resources {
 public:
  virtual ~Resources() = default;
  // The largest content Put() accepts, in bytes.
  virtual int64_t max_bytes() const = 0;
  // Stores `content` as the next version of `name` (1 for a new name). InvalidArgument for a
  // bad name, ResourceExhausted when content is larger than max_bytes(); nothing is written then.
  virtual absl::StatusOr<ResourceVersion> Put(std::string_view name, std::string_view content,
                                              const std::string& uploader) = 0;
  // The latest version of every resource, by name.
  virtual absl::StatusOr<std::vector<ResourceVersion>> List() = 0;
  // Every version of `name`, oldest first; NotFound when there is none.
  virtual absl::StatusOr<std::vector<ResourceVersion>> Versions(std::string_view name) = 0;
  // Opens version `version` of `name` (0: the latest); NotFound naming what is missing.
  virtual absl::StatusOr<ResourceContent> Open(std::string_view name, int64_t version) = 0;
};

}  // namespace hera::core
