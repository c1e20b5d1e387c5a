#include "worker/fetch_downloads.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fd_io.h"
#include "common/percent_encode.h"
#include "common/status.h"
#include "common/strings.h"
#include "exec/bounded_command.h"
#include "exec/outcome.h"
#include "exec/run_setup.h"
#include "exec/run_spec.h"
#include "render/downloads.h"
#include "worker/http_fetch.h"

namespace hera::worker {
namespace {

namespace fs = std::filesystem;

absl::Status Cancelled() { return absl::CancelledError("the run was cancelled"); }

bool IsCancelled(const std::atomic<bool>* cancel) { return cancel != nullptr && cancel->load(); }

// "hera://lib.sh?version=3" → ("lib.sh", 3); version 0 when the URI names none.
absl::StatusOr<std::pair<std::string, int64_t>> ParseHeraUri(std::string_view uri) {
  const std::string_view rest = uri.substr(std::string_view("hera://").size());
  const size_t q = rest.find('?');
  std::pair<std::string, int64_t> out{std::string(rest.substr(0, q)), 0};
  if (out.first.empty() || out.first.find('/') != std::string::npos) {
    return absl::InvalidArgumentError("hera:// URIs name one resource: hera://NAME[?version=N]");
  }
  if (q == std::string_view::npos) return out;
  const std::string_view query = rest.substr(q + 1);
  if (!absl::StartsWith(AsAbsl(query), "version=") ||
      !absl::SimpleAtoi(AsAbsl(query.substr(8)), &out.second) || out.second < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("hera:// URIs take only ?version=N (N from 1), not ?", AsAbsl(query)));
  }
  return out;
}

absl::Status CopyFd(int from, int to, const std::atomic<bool>* cancel) {
  std::string buf(1 << 20, '\0');
  for (;;) {
    if (IsCancelled(cancel)) return Cancelled();
    const ssize_t n = ::read(from, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "read");
    if (n == 0) return absl::OkStatus();
    HERA_RETURN_IF_ERROR(WriteAll(to, std::string_view(buf.data(), static_cast<size_t>(n))));
  }
}

absl::Status FetchHera(std::string_view uri, int out, const FetchOptions& options,
                       const std::atomic<bool>* cancel) {
  absl::StatusOr<std::pair<std::string, int64_t>> ref = ParseHeraUri(uri);
  if (!ref.ok()) return ref.status();
  const auto& [name, version] = *ref;
  if (options.open_resource) {
    absl::StatusOr<UniqueFd> in = options.open_resource(name, version);
    if (!in.ok()) return in.status();
    return CopyFd(in->get(), out, cancel);
  }
  if (options.resource_url.empty()) {
    return absl::FailedPreconditionError(
        "this worker knows no master URL to fetch hera:// resources from");
  }
  std::string url = options.resource_url;
  while (absl::EndsWith(url, "/")) url.pop_back();
  absl::StrAppend(&url, "/internal/v1/resources/", PercentEncode(name), "/content");
  if (version > 0) absl::StrAppend(&url, "?version=", version);
  HttpFetchOptions http;
  http.headers.push_back(absl::StrCat("Authorization: Bearer ", options.token));
  http.follow_redirects = false;  // the token goes to the master and nowhere else
  http.timeout = options.timeout;
  http.cancel = cancel;
  return HttpGetToFd(url, out, http);
}

absl::Status FetchFile(std::string_view uri, int out, const std::atomic<bool>* cancel) {
  const std::string path(uri.substr(std::string_view("file://").size()));
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError("file:// URIs name an absolute local path: file:///path");
  }
  UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("stat ", path));
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, " is not a file"));
  return CopyFd(in.get(), out, cancel);
}

// Runs the hdfs command, which creates `dest` itself.
absl::Status FetchHdfs(std::string_view uri, const std::string& dest, const std::string& work_dir,
                       const FetchOptions& options, const std::atomic<bool>* cancel) {
  std::vector<std::string> argv = absl::StrSplit(options.hdfs_get, ' ', absl::SkipEmpty());
  if (argv.empty()) return absl::FailedPreconditionError("no hdfs command is configured");
  argv.emplace_back(uri);
  argv.push_back(dest);
  const std::vector<std::string> env =
      options.env.empty() ? exec::CurrentEnvironment() : options.env;
  absl::StatusOr<exec::CommandResult> ran =
      exec::RunBoundedCommand(argv, env, work_dir, options.timeout, cancel);
  if (!ran.ok()) return ran.status();
  exec::Outcome outcome;
  outcome.how = exec::FromWaitStatus(ran->wait_status);
  if (!outcome.ok()) {
    std::string output(absl::StripAsciiWhitespace(ran->output));
    return absl::UnavailableError(absl::StrCat(options.hdfs_get, ": ", outcome.Describe(),
                                               output.empty() ? "" : ": ", output));
  }
  if (!fs::exists(dest)) {
    return absl::InternalError(absl::StrCat(options.hdfs_get, " exited 0 but wrote no file"));
  }
  return absl::OkStatus();
}

absl::Status FetchOne(std::string_view uri, const std::string& dest, const std::string& work_dir,
                      const FetchOptions& options, const std::atomic<bool>* cancel) {
  const std::string scheme =
      absl::AsciiStrToLower(AsAbsl(uri.substr(0, std::min(uri.find("://"), uri.size()))));
  if (scheme == "hdfs") return FetchHdfs(uri, dest, work_dir, options, cancel);
  if (scheme != "hera" && scheme != "file" && scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat("unsupported scheme \"", scheme,
                                                   "\" (hera://, file://, http(s)://, hdfs://)"));
  }
  UniqueFd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!out.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("create ", dest));
  if (scheme == "hera") return FetchHera(uri, out.get(), options, cancel);
  if (scheme == "file") return FetchFile(uri, out.get(), cancel);
  HttpFetchOptions http;
  http.timeout = options.timeout;
  http.cancel = cancel;
  return HttpGetToFd(std::string(uri), out.get(), http);
}

absl::Status CheckName(const std::string& name, const FetchJob& job) {
  // The master checked it when it rendered the script; a worker does not trust the wire.
  HERA_RETURN_IF_ERROR(render::ValidateDownloadName(name));
  if (name == exec::kOutputLogName ||
      std::find(job.reserved_names.begin(), job.reserved_names.end(), name) !=
          job.reserved_names.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "download name \"", name, "\" is a file of the run's own (its script or log)"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ResolveResourceUrl(std::string_view advertised, std::string_view master_address) {
  const size_t scheme_end = advertised.find("://");
  if (advertised.empty() || scheme_end == std::string_view::npos) return std::string(advertised);
  const size_t host_start = scheme_end + 3;
  size_t host_end = advertised[host_start] == '[' ? advertised.find(']', host_start)
                                                  : advertised.find_first_of(":/", host_start);
  if (host_end == std::string_view::npos) {
    host_end = advertised.size();
  } else if (advertised[host_start] == '[') {
    ++host_end;  // past ']'
  }
  const std::string_view host = advertised.substr(host_start, host_end - host_start);
  if (!host.empty() && host != "0.0.0.0" && host != "[::]") return std::string(advertised);
  // The master's host: before the port's ':' ("[::1]:9887" keeps its brackets).
  std::string_view master = master_address;
  if (const size_t dns = master.find(":///"); dns != std::string_view::npos) {
    master = master.substr(dns + 4);  // a gRPC target such as dns:///host:port
  }
  const size_t colon = master.rfind(':');
  std::string master_host(colon == std::string_view::npos ? master : master.substr(0, colon));
  if (master_host.find(':') != std::string::npos && master_host.front() != '[') {
    master_host = absl::StrCat("[", AsAbsl(master), "]");  // a bare IPv6 address, no port
  }
  return absl::StrCat(AsAbsl(advertised.substr(0, host_start)), master_host,
                      AsAbsl(advertised.substr(host_end)));
}

absl::Status FetchDownloads(const FetchJob& job, const FetchOptions& options,
                            const std::atomic<bool>* cancel) {
  if (job.downloads.empty()) return absl::OkStatus();
  if (::mkdir(job.work_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::error_code ec;
    fs::create_directories(job.work_dir, ec);
    if (!ec && ::chmod(job.work_dir.c_str(), 0700) != 0) ec.assign(errno, std::generic_category());
    if (ec) {
      return absl::InternalError(
          absl::StrCat("cannot create the work dir ", job.work_dir, ": ", ec.message()));
    }
  }
  for (size_t i = 0; i < job.downloads.size(); ++i) {
    const auto& [uri, name] = job.downloads[i];
    absl::Status st = CheckName(name, job);
    // A temporary name of our own: `name` may be as long as a file name can be.
    const std::string tmp = absl::StrCat(job.work_dir, "/.hera-download-", i, ".part");
    std::error_code ec;
    if (st.ok()) fs::remove_all(tmp, ec);  // left by an attempt that died mid-way
    if (st.ok())
      st = IsCancelled(cancel) ? Cancelled() : FetchOne(uri, tmp, job.work_dir, options, cancel);
    if (st.ok() && ::rename(tmp.c_str(), absl::StrCat(job.work_dir, "/", name).c_str()) != 0) {
      st = absl::ErrnoToStatus(errno, absl::StrCat("rename to ", name));
    }
    if (!st.ok()) {
      fs::remove_all(tmp, ec);
      return absl::Status(st.code(), absl::StrCat("download ", uri, " failed: ", st.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace hera::worker
