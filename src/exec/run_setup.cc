#include "exec/run_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/fd_io.h"

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header.

namespace hera::exec {
namespace {

absl::Status WriteScript(const std::string& path, std::string_view script) {
  // O_NOFOLLOW: a job must not be able to redirect the next run's script through a symlink.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("create ", path));
  // An existing file keeps its old mode under O_CREAT; the script may hold secrets.
  if (::fchmod(fd.get(), 0600) < 0) return absl::ErrnoToStatus(errno, absl::StrCat("chmod ", path));
  absl::Status status = WriteAll(fd.get(), script);
  if (!status.ok()) return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
  return absl::OkStatus();
}

// Lets `user` work in `dir` while the worker keeps its output.log. Giving the user the
// directory itself would let the job swap output.log for a symlink before the worker opens it
// (at the first output) or reads it back (after a reconnect), and the worker, root, would then
// write or read any file. So the directory stays the worker's, with the user's group given
// rwx and the sticky bit, which keeps anyone but its owner from renaming or removing a file:
// output.log is created now, before the job runs, and stays where it is. What is in the
// directory (the script, downloads) becomes the user's; lchown changes a symlink a job left,
// never what it points to.
absl::Status HandOver(const std::string& dir, const std::string& user) {
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int rc = ::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found);
  if (rc != 0) return absl::ErrnoToStatus(rc, absl::StrCat("look up user '", user, "'"));
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot run as '", user, "': no such user on this worker"));
  }
  auto failed = [&](const std::string& what) {
    const int err = errno;
    return absl::ErrnoToStatus(
        err,
        absl::StrCat(
            what, " for user '", user, "'",
            err == EPERM ? " (running jobs as other users needs a worker running as root)" : ""));
  };
  absl::StatusOr<UniqueFd> log = OpenRunLog(dir);
  if (!log.ok()) return log.status();
  if (::chown(dir.c_str(), static_cast<uid_t>(-1), pw.pw_gid) < 0 ||
      ::chmod(dir.c_str(), S_ISVTX | S_IRWXU | S_IRWXG) < 0) {
    return failed(absl::StrCat("cannot open ", dir));
  }
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() == 0 && it->path().filename() == kOutputLogName) continue;
    const std::string path = it->path().string();
    if (::lchown(path.c_str(), pw.pw_uid, pw.pw_gid) < 0) {
      return failed(absl::StrCat("cannot give ", path));
    }
  }
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("list ", dir));
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareWorkDir(const RunSpec& spec) {
  // One mkdir in the usual case (the parent exists); the full walk only when it is missing.
  if (::mkdir(spec.work_dir.c_str(), 0700) < 0 && errno != EEXIST) {
    std::error_code ec;
    std::filesystem::create_directories(spec.work_dir, ec);
    if (ec) {
      return absl::ErrnoToStatus(ec.value(), absl::StrCat("create work dir ", spec.work_dir));
    }
  }
  if (!spec.script_name.empty()) {
    absl::Status written =
        WriteScript(absl::StrCat(spec.work_dir, "/", spec.script_name), spec.script);
    if (!written.ok()) return written;
  }
  if (spec.run_as.empty()) return absl::OkStatus();
  return HandOver(spec.work_dir, spec.run_as);
}

absl::StatusOr<UniqueFd> OpenRunLog(const std::string& work_dir) {
  std::string log_path = absl::StrCat(work_dir, "/", kOutputLogName);
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) return absl::ErrnoToStatus(errno, absl::StrCat("open ", log_path));
  return log;
}

std::vector<std::string> MergeEnvironment(
    const std::vector<std::string>& base,
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  // Indexed by the overrides' keys (a run's few HERA_* variables and parameters), not by the
  // base's: each run pays one pass over the worker's environment and no copy of its keys.
  absl::flat_hash_map<std::string_view, size_t> last;  // key -> its last override
  for (size_t i = 0; i < overrides.size(); ++i) last[overrides[i].first] = i;
  std::vector<std::string> env;
  env.reserve(base.size() + overrides.size());
  std::vector<bool> placed(overrides.size(), false);
  for (const std::string& entry : base) {
    auto it = last.find(std::string_view(entry).substr(0, entry.find('=')));
    if (it == last.end()) {
      env.push_back(entry);
    } else if (!placed[it->second]) {  // replaced in place; a duplicate base key is dropped
      placed[it->second] = true;
      const auto& [key, value] = overrides[it->second];
      env.push_back(absl::StrCat(key, "=", value));
    }
  }
  for (size_t i = 0; i < overrides.size(); ++i) {
    const auto& [key, value] = overrides[i];
    if (last[key] == i && !placed[i]) env.push_back(absl::StrCat(key, "=", value));
  }
  return env;
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace hera::exec
