#pragma once
// Splitting text into words the way a POSIX shell does, without running anything: whitespace
// separates words; single quotes, double quotes and backslashes group and escape as in sh; no
// variable, glob or command expansion ($HOME stays "$HOME"). Hera handed command prefixes such
// as `hera.spark.conf` to `sh`, so this is how their words were always split. Pure.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace hera::render {

// A run of one word's characters, and how they were quoted.
struct WordPart {
  enum class Quoting {
    kNone,     // bare text: a placeholder may appear here
    kDouble,   // inside "...": a placeholder may appear here, but is never split into words
    kLiteral,  // inside '...', or one backslash-escaped character: taken as written
  };
  std::string text;
  Quoting quoting = Quoting::kNone;

  bool operator==(const WordPart&) const = default;
};

// One word: its parts in order (an empty "" or '' word has one empty part).
using ShellWord = std::vector<WordPart>;

// The words of `text`, each as quoted parts. InvalidArgument on an unbalanced quote ("unbalanced
// double quote opened at column 7") or a trailing backslash.
absl::StatusOr<std::vector<ShellWord>> ScanShellWords(std::string_view text);

// The words of `text` with quotes removed, e.g. `--conf "a=b c" x\ y` -> {--conf, a=b c, x y}.
// Errors as ScanShellWords.
absl::StatusOr<std::vector<std::string>> SplitShellWords(std::string_view text);

}  // namespace hera::render
