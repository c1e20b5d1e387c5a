#include "exec/outcome.h"

#include <sys/wait.h>

#include <type_traits>

#include "absl/strings/str_cat.h"

namespace hera::exec {

bool Outcome::ok() const {
  const auto* exited = std::get_if<Exited>(&how);
  return exited != nullptr && exited->code == 0 && !timed_out && !cancelled;
}

std::string Outcome::Describe() const {
  std::string text = std::visit(
      [](const auto& h) -> std::string {
        using T = std::decay_t<decltype(h)>;
        if constexpr (std::is_same_v<T, Exited>) {
          return absl::StrCat("exit code ", h.code);
        } else if constexpr (std::is_same_v<T, Signaled>) {
          return absl::StrCat("killed by signal ", h.signal);
        } else {
          return absl::StrCat("failed to start: ", h.error);
        }
      },
      how);
  if (timed_out) {
    absl::StrAppend(&text, " (timeout after ", absl::FormatDuration(timeout), ")");
  } else if (cancelled) {
    absl::StrAppend(&text, " (cancelled)");
  }
  if (!log_error.empty()) absl::StrAppend(&text, " [log: ", log_error, "]");
  return text;
}

std::variant<Exited, Signaled, SpawnFailed> FromWaitStatus(int status) {
  if (WIFEXITED(status)) return Exited{WEXITSTATUS(status)};
  if (WIFSIGNALED(status)) return Signaled{WTERMSIG(status)};
  // Stopped/continued statuses are never requested (no WUNTRACED/WCONTINUED).
  return SpawnFailed{absl::StrCat("unexpected wait status ", status)};
}

}  // namespace hera::exec
