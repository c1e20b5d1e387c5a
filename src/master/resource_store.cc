#include "master/resource_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fd_io.h"
#include "common/json_text.h"
#include "common/mutex_lock.h"
#include "common/strings.h"
#include "master/resource_name.h"

namespace hera::master {
namespace {

namespace fs = std::filesystem;
using core::ResourceVersion;

constexpr char kTmpDir[] = ".tmp";

absl::Status Errno(std::string_view what, const std::string& path) {
  // Internal, whatever errno says: a full disk is the server's problem, not an upload too large.
  return absl::InternalError(absl::StrCat(AsAbsl(what), " ", path, ": ", std::strerror(errno)));
}

std::string Sha256Hex(std::string_view content) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(content.data()),
                     content.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

// fsync on a directory makes the renames and creations inside it durable.
absl::Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return Errno("cannot sync directory", dir);
  return absl::OkStatus();
}

// Writes `data` to a new file in `tmp_dir`, fsync'ed; returns its path.
absl::StatusOr<std::string> WriteTempFile(const std::string& tmp_dir, std::string_view data) {
  std::string path = tmp_dir + "/upload-XXXXXX";
  UniqueFd fd(::mkostemp(path.data(), O_CLOEXEC));
  if (!fd.valid()) return Errno("cannot create a temporary file in", tmp_dir);
  absl::Status st = WriteAll(fd.get(), data);
  if (st.ok() && ::fchmod(fd.get(), 0644) != 0) st = Errno("cannot chmod", path);
  if (st.ok() && ::fsync(fd.get()) != 0) st = Errno("cannot sync", path);
  if (!st.ok()) {
    ::unlink(path.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", st.message()));
  }
  return path;
}

nlohmann::json ToJson(const ResourceVersion& v) {
  return {{"name", v.name},         {"version", v.version},
          {"size", v.size},         {"sha256", v.sha256},
          {"uploader", v.uploader}, {"uploaded_at_us", absl::ToUnixMicros(v.uploaded_at)}};
}

absl::StatusOr<ResourceVersion> ReadMeta(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json j = ParseJsonText(text).value_or(nlohmann::json());
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("version") ||
      !j["version"].is_number_integer() || !j.contains("size") || !j["size"].is_number_integer() ||
      !j.contains("sha256") || !j["sha256"].is_string()) {
    return absl::DataLossError(absl::StrCat("resource metadata ", path, " is damaged"));
  }
  ResourceVersion v;
  v.name = j["name"].get<std::string>();
  v.version = j["version"].get<int64_t>();
  v.size = j["size"].get<int64_t>();
  v.sha256 = j["sha256"].get<std::string>();
  v.uploader = j.value("uploader", "");
  v.uploaded_at = absl::FromUnixMicros(j.value("uploaded_at_us", int64_t{0}));
  return v;
}

// N for a metadata file named "v<N>.json", else 0.
int64_t MetaVersion(std::string_view file) {
  if (!absl::StartsWith(AsAbsl(file), "v") || !absl::EndsWith(AsAbsl(file), ".json")) return 0;
  const std::string_view digits = file.substr(1, file.size() - 6);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc() && end == digits.data() + digits.size() && n > 0 ? n : 0;
}

std::string ContentPath(const std::string& dir, int64_t version) {
  return absl::StrCat(dir, "/v", version);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ResourceStore>> ResourceStore::Open(ResourceStoreOptions options,
                                                                   const Clock* clock) {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  if (options.max_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the upload limit must be positive, not ", options.max_bytes, " bytes"));
  }
  const std::string tmp = absl::StrCat(options.dir, "/", kTmpDir);
  std::error_code ec;
  // Uploads a crash cut short: never renamed into place, so no version refers to them.
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", tmp, ": ", ec.message()));
  return std::unique_ptr<ResourceStore>(new ResourceStore(std::move(options), clock));
}

absl::StatusOr<ResourceVersion> ResourceStore::Put(std::string_view name, std::string_view content,
                                                   const std::string& uploader) {
  if (absl::Status st = ValidateResourceName(name); !st.ok()) return st;
  if (static_cast<int64_t>(content.size()) > options_.max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "resource \"", AsAbsl(name), "\" is ", content.size(), " bytes; the upload limit is ",
        options_.max_bytes, " bytes (hera --max-upload-mb)"));
  }
  ResourceVersion v;
  v.name = std::string(name);
  v.size = static_cast<int64_t>(content.size());
  v.sha256 = Sha256Hex(content);
  v.uploader = uploader;
  v.uploaded_at = clock_->Now();
  // The slow part outside the lock: other uploads go on meanwhile.
  absl::StatusOr<std::string> data_tmp =
      WriteTempFile(absl::StrCat(options_.dir, "/", kTmpDir), content);
  if (!data_tmp.ok()) return data_tmp.status();
  absl::Cleanup drop_data_tmp = [&] { ::unlink(data_tmp->c_str()); };

  MutexLock lock(&commit_mu_);
  const std::string dir = absl::StrCat(options_.dir, "/", v.name);
  if (::mkdir(dir.c_str(), 0755) == 0) {
    if (absl::Status st = SyncDir(options_.dir); !st.ok()) return st;
  } else if (errno != EEXIST) {
    return Errno("cannot create", dir);
  }
  absl::StatusOr<std::vector<ResourceVersion>> existing = ReadVersions(v.name);
  if (!existing.ok()) return existing.status();
  v.version = existing->empty() ? 1 : existing->back().version + 1;
  absl::StatusOr<std::string> meta_tmp =
      WriteTempFile(absl::StrCat(options_.dir, "/", kTmpDir), ToJson(v).dump() + "\n");
  if (!meta_tmp.ok()) return meta_tmp.status();
  absl::Cleanup drop_meta_tmp = [&] { ::unlink(meta_tmp->c_str()); };

  // Content first, metadata last: the metadata's rename is what makes the version exist.
  const std::string data_path = ContentPath(dir, v.version);
  if (::rename(data_tmp->c_str(), data_path.c_str()) != 0)
    return Errno("cannot rename to", data_path);
  std::move(drop_data_tmp).Cancel();  // its name may be another upload's temporary file soon
  const std::string meta_path = data_path + ".json";
  if (::rename(meta_tmp->c_str(), meta_path.c_str()) != 0) {
    const absl::Status st = Errno("cannot rename to", meta_path);
    ::unlink(data_path.c_str());
    return st;
  }
  std::move(drop_meta_tmp).Cancel();
  if (absl::Status st = SyncDir(dir); !st.ok()) return st;
  return v;
}

absl::StatusOr<int64_t> ResourceStore::PurgeVersionsBefore(absl::Time cutoff) {
  absl::StatusOr<std::vector<ResourceVersion>> latest = List();
  if (!latest.ok()) return latest.status();
  int64_t purged = 0;
  for (const ResourceVersion& newest : *latest) {
    MutexLock lock(&commit_mu_);  // no Put numbers a version while its elders go
    absl::StatusOr<std::vector<ResourceVersion>> versions = ReadVersions(newest.name);
    if (!versions.ok()) return versions.status();
    const std::string dir = absl::StrCat(options_.dir, "/", newest.name);
    for (size_t i = 0; i + 1 < versions->size(); ++i) {
      const ResourceVersion& v = (*versions)[i];
      if (v.uploaded_at >= cutoff) continue;
      // Metadata first: it is what makes the version exist, so no reader finds half of one.
      const std::string content = ContentPath(dir, v.version);
      if (::unlink((content + ".json").c_str()) != 0) return Errno("cannot remove", content);
      ::unlink(content.c_str());
      ++purged;
    }
  }
  return purged;
}

absl::StatusOr<std::vector<ResourceVersion>> ResourceStore::ReadVersions(
    const std::string& name) const {
  const std::string dir = absl::StrCat(options_.dir, "/", name);
  std::map<int64_t, ResourceVersion> by_version;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return std::vector<ResourceVersion>{};
    return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const int64_t n = MetaVersion(it->path().filename().string());
    if (n == 0) continue;
    absl::StatusOr<ResourceVersion> v = ReadMeta(it->path().string());
    if (!v.ok()) return v.status();
    by_version[n] = *std::move(v);
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  std::vector<ResourceVersion> out;
  out.reserve(by_version.size());
  for (auto& [n, v] : by_version) out.push_back(std::move(v));
  return out;
}

absl::StatusOr<std::vector<ResourceVersion>> ResourceStore::List() {
  std::vector<ResourceVersion> out;
  std::error_code ec;
  fs::directory_iterator it(options_.dir, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot list ", options_.dir, ": ", ec.message()));
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.' || !ValidateResourceName(name).ok()) continue;
    absl::StatusOr<std::vector<ResourceVersion>> versions = ReadVersions(name);
    if (!versions.ok()) return versions.status();
    if (!versions->empty()) out.push_back(std::move(versions->back()));
  }
  if (ec)
    return absl::InternalError(absl::StrCat("cannot list ", options_.dir, ": ", ec.message()));
  std::sort(out.begin(), out.end(),
            [](const ResourceVersion& a, const ResourceVersion& b) { return a.name < b.name; });
  return out;
}

absl::StatusOr<std::vector<ResourceVersion>> ResourceStore::Versions(std::string_view name) {
  if (absl::Status st = ValidateResourceName(name); !st.ok()) return st;
  absl::StatusOr<std::vector<ResourceVersion>> versions = ReadVersions(std::string(name));
  if (versions.ok() && versions->empty()) {
    return absl::NotFoundError(absl::StrCat("no resource \"", AsAbsl(name), "\""));
  }
  return versions;
}

absl::StatusOr<core::ResourceContent> ResourceStore::Open(std::string_view name, int64_t version) {
  if (version < 0) {
    return absl::InvalidArgumentError(absl::StrCat("resource version ", version, " is negative"));
  }
  absl::StatusOr<std::vector<ResourceVersion>> versions = Versions(name);
  if (!versions.ok()) return versions.status();
  core::ResourceContent content;
  if (version == 0) {
    content.meta = versions->back();
  } else {
    auto it = std::find_if(versions->begin(), versions->end(),
                           [&](const ResourceVersion& v) { return v.version == version; });
    if (it == versions->end()) {
      return absl::NotFoundError(absl::StrCat("resource \"", AsAbsl(name), "\" has no version ",
                                              version, " (the latest is ", versions->back().version,
                                              ")"));
    }
    content.meta = *it;
  }
  const std::string path =
      ContentPath(absl::StrCat(options_.dir, "/", content.meta.name), content.meta.version);
  content.fd.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!content.fd.valid()) return Errno("cannot open", path);
  return content;
}

}  // namespace hera::master
