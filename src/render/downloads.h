#pragma once
// Step 1 of rendering: `download[uri name]` lines, the files a run fetches into its work
// directory before it starts.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hera::render {

// One file to fetch: `name` is a plain file name inside the work directory.
struct Download {
  std::string uri;   // "hdfs:///jars/udf.jar", "hera://...", "https://...", "file://..."
  std::string name;  // "udf.jar"

  bool operator==(const Download&) const = default;
};

struct ScriptDownloads {
  std::string script;               // the input with each directive line left empty
  std::vector<Download> downloads;  // in script order
};

// Finds the lines that are, after trimming, `download[uri]` or `download[uri name]`, and
// blanks them: the line stays, empty, so line numbers in the job's errors still match its
// editor. The name defaults to the URI's last path segment. InvalidArgument names the line
// ("line 3: ...") for a URI without a scheme, more than two words, a bad name (see
// ValidateDownloadName) or a name used twice (Hera kept the first silently).
// Hera matched `download\[.*://.+]` anywhere in a line and removed just that text; a line
// with other text around it is left alone here.
absl::StatusOr<ScriptDownloads> ExtractDownloads(std::string_view script);

// OK when `name` can be created inside a work directory and nowhere else: not empty, not
// "." or "..", and no '/', "..", or control characters. InvalidArgument quotes the name.
absl::Status ValidateDownloadName(std::string_view name);

}  // namespace hera::render
