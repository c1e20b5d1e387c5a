#include "exec/program_lookup.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace hera::exec {
namespace {

// Used when the child's environment has no PATH, like execvp's default.
constexpr absl::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
// More remembered (name, PATH) pairs than this means PATHs vary per run: start over.
constexpr size_t kMaxRemembered = 256;

absl::string_view EnvValue(const std::vector<std::string>& env, absl::string_view key) {
  for (const std::string& entry : env) {
    absl::string_view e = entry;
    if (e.size() > key.size() && e[key.size()] == '=' && e.substr(0, key.size()) == key) {
      return e.substr(key.size() + 1);
    }
  }
  return {};
}

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

absl::StatusOr<std::string> ProgramLookup::Find(const std::string& name,
                                                const std::vector<std::string>& env,
                                                const std::string& cwd, absl::Time now) {
  if (name.empty()) return absl::InvalidArgumentError("empty program name");
  if (name.find('/') != std::string::npos) return name;
  absl::string_view path = EnvValue(env, "PATH");
  if (path.empty()) path = kDefaultPath;
  // Only an all-absolute PATH gives the same answer in every working directory.
  bool absolute = true;
  for (absl::string_view dir : absl::StrSplit(path, ':')) absolute &= !dir.empty() && dir[0] == '/';
  auto key = std::make_pair(name, std::string(path));
  if (absolute) {
    std::lock_guard lock(mu_);
    auto it = found_.find(key);
    if (it != found_.end() && now - it->second.at < kRemembered &&
        IsExecutableFile(it->second.path)) {
      return it->second.path;
    }
  }
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    std::string check = candidate[0] == '/' ? candidate : absl::StrCat(cwd, "/", candidate);
    if (!IsExecutableFile(check)) continue;
    if (absolute) {
      std::lock_guard lock(mu_);
      if (found_.size() >= kMaxRemembered) found_.clear();
      found_[std::move(key)] = Found{candidate, now};
    }
    return candidate;
  }
  return absl::NotFoundError(absl::StrCat(name, ": not found in PATH"));
}

ProgramLookup& ProgramLookup::Shared() {
  static ProgramLookup* lookup = new ProgramLookup();  // never destroyed: children spawn late
  return *lookup;
}

}  // namespace hera::exec
