#pragma once
// One HTTP(S) GET into a file descriptor, over libcurl, for the downloads a run fetches before
// it starts (worker/fetch_downloads.h).

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace hera::worker {

struct HttpFetchOptions {
  std::vector<std::string> headers;            // "Name: value", e.g. the cluster token
  absl::Duration timeout = absl::Minutes(10);  // the whole transfer
  absl::Duration connect_timeout = absl::Seconds(30);
  // Follow up to 5 redirects (http and https only). Off where a header holds a secret.
  bool follow_redirects = true;
  const std::atomic<bool>* cancel = nullptr;  // when it turns true the transfer stops
};

// GETs `url` (http:// or https://) and writes the body to `fd`. OK only for a 2xx answer whose
// body arrived whole. Otherwise: Cancelled, DeadlineExceeded (timeout), NotFound (404),
// PermissionDenied/Unauthenticated (403/401), Unavailable (other statuses, refused, reset),
// each message naming the HTTP status and the server's error text, or libcurl's reason.
absl::Status HttpGetToFd(const std::string& url, int fd, const HttpFetchOptions& options);

}  // namespace hera::worker
