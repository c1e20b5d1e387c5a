#pragma once
// A job type's command as a template, e.g. `spark-sql {spark_conf} -f {script}`: words split
// like a shell's (shell_words.h), with placeholders the master fills from a run's configs just
// before the dispatch (SEMANTICS.md §7). Pure: no IO.
//
// Placeholders (bare or inside double quotes; single quotes and a backslash keep `{` literal):
//   {script}      the file the run's script is written to, in the work directory
//   {hive}        config hera.hive.bin, default `hive`
//   {jar}         config hera.java.jar; required wherever the template uses it
//   {spark_conf}  config hera.spark.conf  } split into words like a shell would (quotes honoured,
//   {java_opts}   config hera.java.opts   } no $ expansion); unset: no words. Such a placeholder
//   {args}        config hera.java.args   } stands as a word of its own, or inside "..." (one word)
// Config values are read with their ${key} references expanded (config_expander.h).

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "render/effective_configs.h"

namespace hera::render {

// Immutable once parsed; safe to share across threads.
class CommandTemplate {
 public:
  // Parses `text`. InvalidArgument naming what is wrong: an unknown placeholder ("unknown
  // placeholder {sprak_conf}; known: ..."), an unclosed one, an unbalanced quote, a list
  // placeholder glued to other text, or a template without words.
  static absl::StatusOr<CommandTemplate> Parse(std::string_view text);

  // The argv for a run with `configs` whose script goes into `script_name`. InvalidArgument
  // naming the config key when a required one is missing or a value does not split (unbalanced
  // quote) or expand (reference cycle).
  absl::StatusOr<std::vector<std::string>> Expand(const ConfigMap& configs,
                                                  std::string_view script_name) const;

  // The text it was parsed from.
  const std::string& text() const { return text_; }

 private:
  enum class Slot { kScript, kHive, kJar, kSparkConf, kJavaOpts, kArgs };
  // Literal text, or a placeholder.
  struct Piece {
    bool is_slot = false;
    Slot slot = Slot::kScript;
    std::string text;
  };
  struct Word {
    std::vector<Piece> pieces;
    bool split = false;  // a single list placeholder, expanded to its words
  };

  std::string text_;
  std::vector<Word> words_;
};

}  // namespace hera::render
