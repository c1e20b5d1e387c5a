#include "cli/ctl_format.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "common/time_format.h"

namespace hera::cli {
namespace {

const Json* Find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

std::optional<absl::Time> TimeField(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  absl::StatusOr<absl::Time> t = ParseIsoTime(v->get<std::string>());
  if (!t.ok()) return std::nullopt;
  return *t;
}

}  // namespace

std::string FieldText(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return v->get<std::string>();
  return v->dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string LocalTimeText(const Json& obj, std::string_view key, const absl::TimeZone& tz) {
  const Json* v = Find(obj, key);
  if (v == nullptr || v->is_null()) return "-";
  if (std::optional<absl::Time> t = TimeField(obj, key)) {
    return absl::FormatTime("%Y-%m-%d %H:%M:%S", *t, tz);
  }
  return FieldText(obj, key);
}

std::string DurationText(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  const int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms < 10'000) return absl::StrFormat("%.1fs", static_cast<double>(ms) / 1000.0);
  const int64_t s = ms / 1000;
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

std::string RunDurationText(const Json& run, absl::Time now) {
  const std::optional<absl::Time> started = TimeField(run, "started_at");
  if (!started) return "-";
  const std::optional<absl::Time> ended = TimeField(run, "ended_at");
  return DurationText((ended ? *ended : now) - *started);
}

std::string RunExitText(const Json& run) {
  const Json* code = Find(run, "exit_code");
  if (code != nullptr && code->is_number_integer()) return std::to_string(code->get<int64_t>());
  const Json* sig = Find(run, "signal");
  if (sig != nullptr && sig->is_number_integer()) {
    return absl::StrCat("signal ", sig->get<int64_t>());
  }
  return "-";
}

Color StatusColor(std::string_view status) {
  if (status == "success") return Color::kGreen;
  if (status == "failed" || status == "lost") return Color::kRed;
  if (status == "running") return Color::kCyan;
  if (status == "queued") return Color::kYellow;
  if (status == "cancelled") return Color::kDim;
  return Color::kNone;
}

void PrintMoreNote(const Json& resp, size_t shown, std::string_view noun) {
  if (!resp.contains("total") || !resp["total"].is_number_integer()) return;
  const int64_t total = resp["total"].get<int64_t>();
  if (total <= static_cast<int64_t>(shown)) return;
  std::fprintf(stderr, "(%zu of %lld %.*s shown; use --limit to see more)\n", shown,
               static_cast<long long>(total), static_cast<int>(noun.size()), noun.data());  // NOLINT
}

}  // namespace hera::cli
