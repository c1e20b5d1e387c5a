#include "cli/ctl_http_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/percent_encode.h"

namespace hera::cli {
namespace {

void GlobalInitOnce() {
  // curl_global_init is not thread-safe and must run before any other curl call; a function
  // static runs it once. The matching cleanup is left to process exit.
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

struct Transfer {
  HttpResponse* response;
  CURL* curl;
  std::optional<absl::FunctionRef<bool(std::string_view)>> on_data;
  bool stopped_by_caller = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();  // a new response (after a 1xx or a redirect)
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    absl::AsciiStrToLower(&name);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ' ||
                              value.back() == '\t')) {
      value.remove_suffix(1);
    }
    t->response->headers[name] = std::string(value);
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view chunk(data, size * count);
  if (t->on_data) {
    long status = 0;  // NOLINT(google-runtime-int)
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      if (!(*t->on_data)(chunk)) {
        t->stopped_by_caller = true;
        return 0;  // makes curl abort with CURLE_WRITE_ERROR
      }
      return chunk.size();
    }
  }
  t->response->body.append(chunk);
  return chunk.size();
}

long Seconds(absl::Duration d) {                      // NOLINT(google-runtime-int)
  return static_cast<long>(absl::ToInt64Seconds(d));  // NOLINT(google-runtime-int)
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  std::string key(name);
  absl::AsciiStrToLower(&key);
  auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

struct HttpClient::Impl {
  HttpClientOptions options;
  CURL* curl = nullptr;

  ~Impl() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  absl::StatusOr<HttpResponse> Perform(
      const HttpRequest& req, std::optional<absl::FunctionRef<bool(std::string_view)>> on_data,
      absl::Duration stall_timeout);
};

absl::StatusOr<HttpResponse> HttpClient::Impl::Perform(
    const HttpRequest& req, std::optional<absl::FunctionRef<bool(std::string_view)>> on_data,
    absl::Duration stall_timeout) {
  if (curl == nullptr) {
    curl = curl_easy_init();
    if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  } else {
    curl_easy_reset(curl);  // keeps the connection cache, forgets the previous request's options
  }
  HttpResponse response;
  Transfer transfer{&response, curl, on_data};
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for timeouts; we are single-threaded
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "hera-ctl/0.1");
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, Seconds(options.connect_timeout));
  // Abandon a transfer that moves less than 1 byte/s for stall_timeout.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, Seconds(stall_timeout));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);

  curl_slist* headers = nullptr;
  for (const std::string& h : req.headers) headers = curl_slist_append(headers, h.c_str());
  // curl sends "Expect: 100-continue" for bodies over 1 KiB and then waits up to a second for
  // an interim response that many servers never send; a job script easily exceeds 1 KiB.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  if (req.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    if (req.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.has_body || req.method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.c_str());
    }
  }

  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // `error` goes out of scope

  if (rc == CURLE_WRITE_ERROR && transfer.stopped_by_caller) return response;
  if (rc != CURLE_OK) {
    const std::string message = error[0] != '\0' ? error : curl_easy_strerror(rc);
    return absl::UnavailableError(message);
  }
  return response;
}

HttpClient::HttpClient(HttpClientOptions options) : impl_(std::make_unique<Impl>()) {
  GlobalInitOnce();
  impl_->options = options;
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

absl::StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& req) {
  return impl_->Perform(req, std::nullopt, impl_->options.stall_timeout);
}

absl::StatusOr<HttpResponse> HttpClient::Stream(const HttpRequest& req,
                                                absl::FunctionRef<bool(std::string_view)> on_data,
                                                absl::Duration stall_timeout) {
  return impl_->Perform(req, on_data, stall_timeout);
}

std::string HttpClient::Escape(std::string_view s) { return PercentEncode(s); }

}  // namespace hera::cli
