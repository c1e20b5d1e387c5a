#pragma once
// multipart/form-data request bodies (RFC 7578 over RFC 2046), as browsers, curl -F and
// `hera ctl resource upload` send them. Pure: parts are views into the body.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace hera::api {

struct MultipartPart {
  std::string name;          // the form field, from Content-Disposition
  std::string filename;      // empty when the part is not a file
  std::string content_type;  // empty when the part does not say
  std::string_view data;     // the part's bytes, exactly (binary-safe); points into the body
};

// The boundary from a Content-Type value such as `multipart/form-data; boundary="x y"`.
// InvalidArgument when the type is not multipart/form-data or the boundary is missing or not
// 1-70 characters.
absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type);

// Splits `body` at `boundary` into its parts, in order. The preamble before the first
// delimiter and the epilogue after the closing one are ignored. InvalidArgument saying what is
// malformed: no delimiter, no closing delimiter, a part without Content-Disposition form-data
// and a name, headers not ended by an empty line, more than `max_parts` parts.
absl::StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                          std::string_view boundary,
                                                          size_t max_parts = 16);

}  // namespace hera::api
