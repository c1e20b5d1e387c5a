#include "worker/http_fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/fd_io.h"
#include "common/json_text.h"

namespace hera::worker {
namespace {

constexpr size_t kMaxErrorBody = 1024;

void GlobalInitOnce() {
  // curl_global_init must run once before any other curl call; a function static does that,
  // also when the first downloads start on several threads at once.
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

struct Transfer {
  CURL* curl = nullptr;
  int fd = -1;
  const std::atomic<bool>* cancel = nullptr;
  std::string error_body;  // of a non-2xx answer, cut at kMaxErrorBody
  absl::Status write_error;
};

long Status(CURL* curl) {  // NOLINT(google-runtime-int): libcurl's type
  long status = 0;         // NOLINT(google-runtime-int)
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view chunk(data, size * count);
  const long status = Status(t->curl);  // NOLINT(google-runtime-int)
  if (status < 200 || status >= 300) {
    t->error_body.append(
        chunk.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, t->error_body.size())));
    return chunk.size();
  }
  t->write_error = WriteAll(t->fd, chunk);
  return t->write_error.ok() ? chunk.size() : 0;  // 0 makes curl stop with CURLE_WRITE_ERROR
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->cancel != nullptr && t->cancel->load() ? 1 : 0;  // non-zero aborts the transfer
}

long Millis(absl::Duration d) {  // NOLINT(google-runtime-int): libcurl's type
  return static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));  // NOLINT
}

// The server's words for a failed request: Hera's {"error":{"message"}}, or the body's start.
std::string ErrorText(const std::string& body) {
  const nlohmann::json j = ParseJsonText(body).value_or(nlohmann::json());
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].contains("message") && j["error"]["message"].is_string()) {
    return j["error"]["message"].get<std::string>();
  }
  std::string text(absl::StripAsciiWhitespace(body.substr(0, 200)));
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text;
}

absl::Status HttpError(long status, const std::string& body) {  // NOLINT(google-runtime-int)
  std::string message = absl::StrCat("HTTP ", status);
  if (const std::string text = ErrorText(body); !text.empty())
    absl::StrAppend(&message, ": ", text);
  switch (status) {
    case 404:
      return absl::NotFoundError(message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

}  // namespace

absl::Status HttpGetToFd(const std::string& url, int fd, const HttpFetchOptions& options) {
  GlobalInitOnce();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  Transfer t;
  t.curl = curl.get();
  t.fd = fd;
  t.cancel = options.cancel;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: downloads run on several threads
  curl_easy_setopt(c, CURLOPT_USERAGENT, "hera-worker/0.1");
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, Millis(options.connect_timeout));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, Millis(options.timeout));
  if (options.follow_redirects) {
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_slist* headers = nullptr;
  for (const std::string& h : options.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  const long status = Status(c);  // NOLINT(google-runtime-int)
  if (rc == CURLE_ABORTED_BY_CALLBACK) return absl::CancelledError("cancelled");
  if (rc == CURLE_WRITE_ERROR && !t.write_error.ok()) {
    return absl::InternalError(absl::StrCat("cannot write the file: ", t.write_error.message()));
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(
        absl::StrCat("timed out (limit ", absl::FormatDuration(options.timeout), "): ", error));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(error[0] != '\0' ? error : curl_easy_strerror(rc));
  }
  if (status < 200 || status >= 300) return HttpError(status, t.error_body);
  return absl::OkStatus();
}

}  // namespace hera::worker
