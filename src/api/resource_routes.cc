#include "api/resource_routes.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/multipart.h"
#include "api/request_util.h"
#include "common/time_format.h"

namespace hera::api {
namespace {

using nlohmann::json;

json VersionJson(const core::ResourceVersion& v, const absl::TimeZone& tz) {
  return {{"name", v.name},
          {"version", v.version},
          {"size", v.size},
          {"sha256", v.sha256},
          {"uri", absl::StrCat("hera://", v.name)},
          {"uploader", v.uploader},
          {"uploaded_at", FormatIsoTime(v.uploaded_at, tz)}};
}

// An upload the store refused as too large is 413, as the server's own body limit answers;
// every other error maps as usual.
HttpResponse UploadError(const absl::Status& status) {
  HttpResponse resp = ErrorResponse(status);
  if (status.code() == absl::StatusCode::kResourceExhausted) resp.status = 413;
  return resp;
}

// The resource's name and content from a multipart body: field `file` (required) and field
// `name` (default: the file's filename).
struct Upload {
  std::string name;
  std::string_view content;
};

absl::StatusOr<Upload> ParseUpload(const HttpRequest& req) {
  absl::StatusOr<std::string> boundary = MultipartBoundary(req.Header("content-type"));
  if (!boundary.ok()) return boundary.status();
  absl::StatusOr<std::vector<MultipartPart>> parts = ParseMultipart(req.body, *boundary);
  if (!parts.ok()) return parts.status();
  const MultipartPart* file = nullptr;
  std::optional<std::string> name;
  for (const MultipartPart& part : *parts) {
    if (part.name == "file") {
      if (file != nullptr) return absl::InvalidArgumentError("upload one 'file' at a time");
      file = &part;
    } else if (part.name == "name") {
      name = std::string(part.data);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown form field '", part.name, "' (send 'file' and optionally 'name')"));
    }
  }
  if (file == nullptr) {
    return absl::InvalidArgumentError("the upload has no 'file' field with the content");
  }
  Upload upload;
  upload.name = name && !name->empty() ? *name : file->filename;
  if (upload.name.empty()) {
    return absl::InvalidArgumentError(
        "name the resource: a 'name' field, or a filename on the 'file' field");
  }
  upload.content = file->data;
  return upload;
}

// The query's `version` (absent: 0, the latest).
absl::StatusOr<int64_t> VersionParam(const HttpRequest& req) {
  return QueryInt(req, "version", 0, 1, INT64_MAX);
}

// A file's first `size` bytes, pulled 64 KiB at a time.
class FileSource final : public StreamSource {
 public:
  FileSource(UniqueFd fd, int64_t size) : fd_(std::move(fd)), left_(size) {}
  Step Pull(const StreamWaker&, std::string* out) override {
    if (left_ <= 0) return {Step::Then::kDone};
    char buf[64 * 1024];
    ssize_t n;
    do {
      n = ::read(fd_.get(), buf, static_cast<size_t>(std::min<int64_t>(left_, sizeof buf)));
    } while (n < 0 && errno == EINTR);
    // A short file ends the stream early: the client sees fewer bytes than announced.
    if (n <= 0) return {Step::Then::kDone};
    out->append(buf, static_cast<size_t>(n));
    left_ -= n;
    return {left_ > 0 ? Step::Then::kMore : Step::Then::kDone};
  }

 private:
  UniqueFd fd_;
  int64_t left_;  // bytes still to send
};

// The version's bytes, streamed from the file with an exact Content-Length, so a client can
// tell a cut-off transfer from a whole one.
HttpResponse ContentResponse(core::ResourceContent content) {
  HttpResponse resp;
  resp.content_type = "application/octet-stream";
  resp.headers.emplace_back("Content-Length", absl::StrCat(content.meta.size));
  resp.headers.emplace_back("Content-Disposition",
                            absl::StrCat("attachment; filename=\"", content.meta.name, "\""));
  resp.headers.emplace_back("X-Hera-Resource-Version", absl::StrCat(content.meta.version));
  resp.headers.emplace_back("X-Hera-Sha256", content.meta.sha256);
  resp.stream = std::make_shared<FileSource>(std::move(content.fd), content.meta.size);
  return resp;
}

HttpResponse Content(const ApiContext& c, HttpRequest& req) {
  HERA_TRY(int64_t version, VersionParam(req));
  HERA_TRY(core::ResourceContent content, c.resources->Open(req.params["name"], version));
  return ContentResponse(std::move(content));
}

// Whether the request carries the cluster token (compared in constant time).
bool HasClusterToken(const HttpRequest& req, const std::string& token) {
  const std::string header = req.Header("authorization");
  if (!absl::StartsWithIgnoreCase(header, "bearer ")) return false;
  const std::string given = header.substr(7);
  return given.size() == token.size() &&
         sodium_memcmp(given.data(), token.data(), token.size()) == 0;
}

}  // namespace

void AddResourceRoutes(Router& r, const ApiContext& c) {
  if (c.resources == nullptr) return;
  r.Add("POST", "/api/v1/resources",
        Authenticated(c.auth, [c](HttpRequest& req, const core::User& u) {
          HERA_TRY(Upload upload, ParseUpload(req));
          absl::StatusOr<core::ResourceVersion> stored =
              c.resources->Put(upload.name, upload.content, u.username);
          if (!stored.ok()) return UploadError(stored.status());
          return JsonResponse(201, VersionJson(*stored, c.tz));
        }));
  r.Add("GET", "/api/v1/resources", Authenticated(c.auth, [c](HttpRequest&, const core::User&) {
          HERA_TRY(auto latest, c.resources->List());
          json items = json::array();
          for (const auto& v : latest) items.push_back(VersionJson(v, c.tz));
          return JsonResponse(200, {{"items", items}, {"total", latest.size()}});
        }));
  r.Add("GET", "/api/v1/resources/{name}",
        Authenticated(c.auth, [c](HttpRequest& req, const core::User&) {
          const std::string name = req.params["name"];
          HERA_TRY(auto versions, c.resources->Versions(name));
          json items = json::array();
          for (const auto& v : versions) items.push_back(VersionJson(v, c.tz));
          return JsonResponse(200, {{"name", name},
                                    {"uri", absl::StrCat("hera://", name)},
                                    {"latest", versions.back().version},
                                    {"versions", items}});
        }));
  r.Add(
      "GET", "/api/v1/resources/{name}/content",
      Authenticated(c.auth, [c](HttpRequest& req, const core::User&) { return Content(c, req); }));
  if (c.cluster_token.empty()) return;
  r.Add("GET", "/internal/v1/resources/{name}/content", [c](HttpRequest& req) {
    if (!HasClusterToken(req, c.cluster_token)) {
      return ErrorResponse(absl::UnauthenticatedError(
          "this endpoint is for workers: send the cluster token as Authorization: Bearer"));
    }
    return Content(c, req);
  });
}

}  // namespace hera::api
