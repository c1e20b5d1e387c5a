#pragma once
// Percent-encoding of a URL path segment or query value (RFC 3986): what the CLI and the workers
// put into the URLs they build.

#include <string>
#include <string_view>

namespace hera {

// `s` with every byte but the unreserved ones (A-Z a-z 0-9 - _ . ~) written as %XX.
std::string PercentEncode(std::string_view s);

}  // namespace hera
