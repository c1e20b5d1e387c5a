#pragma once
// Finds the program a child will exec, the way execvp would, but against the child's PATH.
// A worker starts the same few programs (bash, python3, hive…) thousands of times with the
// same PATH; remembering where each was found saves one stat per PATH entry per start.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace hera::exec {

class ProgramLookup {
 public:
  // How long a program found is used without searching PATH again: a program installed
  // earlier in PATH meanwhile is picked up after this long.
  static constexpr absl::Duration kRemembered = absl::Seconds(10);

  // The path to exec for `name` in a child with environment `env` (its PATH, or execvp's
  // default) and working directory `cwd`: `name` itself when it has a slash, else the first
  // executable regular file in PATH (relative entries against `cwd`). NotFound names it.
  // A remembered answer is used only while it is still an executable file. Thread-safe.
  absl::StatusOr<std::string> Find(const std::string& name, const std::vector<std::string>& env,
                                   const std::string& cwd, absl::Time now);

  // The process-wide lookup the child processes use.
  static ProgramLookup& Shared();

 private:
  struct Found {
    std::string path;
    absl::Time at;
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Found> found_;  // (name, PATH) → where
};

}  // namespace hera::exec
