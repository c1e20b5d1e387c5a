#include "worker/term_file.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "worker/small_file.h"

namespace hera::worker {

absl::StatusOr<TermFile> TermFile::Open(std::string path) {
  absl::StatusOr<std::optional<std::string>> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  uint64_t term = 0;
  if (text->has_value() && !absl::SimpleAtoi(absl::StripAsciiWhitespace(**text), &term)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": expected the highest master term seen (a number), found '",
                     absl::StripAsciiWhitespace(**text), "'"));
  }
  return TermFile(std::move(path), term);
}

absl::Status TermFile::Raise(uint64_t term) {
  if (term <= max_term_) return absl::OkStatus();
  if (absl::Status st = WriteFileAtomically(path_, absl::StrCat(term, "\n")); !st.ok()) return st;
  max_term_ = term;
  return absl::OkStatus();
}

}  // namespace hera::worker
