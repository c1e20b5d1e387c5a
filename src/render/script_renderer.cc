#include "render/script_renderer.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status.h"
#include "common/strings.h"
#include "render/config_expander.h"
#include "render/macro_eval.h"
#include "render/macro_parser.h"
#include "render/zdt.h"

namespace hera::render {

absl::StatusOr<std::string> EvaluateZdtMacros(std::string_view text, absl::Time t,
                                              const absl::TimeZone& tz) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  size_t line = 1;
  size_t counted_to = 0;  // `line` is the line number of offset counted_to
  while (true) {
    size_t at = text.find("${zdt", pos);
    while (at != std::string_view::npos && !StartsZdtMacro(text, at))
      at = text.find("${zdt", at + 1);
    if (at == std::string_view::npos) break;
    line += std::count(text.begin() + counted_to, text.begin() + at, '\n');
    counted_to = at;
    const std::string where = absl::StrCat("line ", line);

    absl::StatusOr<ZdtMacro> macro = ParseZdtMacro(text, at);
    if (!macro.ok()) return WithContext(macro.status(), where);
    absl::StatusOr<std::string> value = EvaluateZdtMacro(*macro, t, tz);
    if (!value.ok()) {
      return WithContext(value.status(),
                         absl::StrCat(where, ": ", QuoteMacro(text, macro->begin, macro->end)));
    }
    out.append(text.substr(pos, at - pos));
    out += *value;
    pos = macro->end;
  }
  out.append(text.substr(pos));
  return out;
}

absl::StatusOr<RenderedScript> Render(std::string_view script, const RenderContext& ctx) {
  HERA_ASSIGN_OR_RETURN(ScriptDownloads extracted, ExtractDownloads(script));
  HERA_ASSIGN_OR_RETURN(std::string text, ExpandConfigs(extracted.script, ctx.configs));
  HERA_ASSIGN_OR_RETURN(text, EvaluateZdtMacros(text, ctx.scheduled_time, ctx.zone));

  // Hera: new HeraDateTool(scheduled).addDay(-1).format("yyyyMMdd").
  constexpr std::string_view kYesterday = "${yesterday}";
  if (text.find(kYesterday) != std::string::npos) {
    absl::StatusOr<std::string> yesterday =
        Zdt(ctx.scheduled_time, ctx.zone).AddDay(-1).Format("yyyyMMdd");
    if (!yesterday.ok()) return WithContext(yesterday.status(), "${yesterday}");
    absl::StrReplaceAll({{AsAbsl(kYesterday), *yesterday}}, &text);
  }
  return RenderedScript{std::move(text), std::move(extracted.downloads)};
}

}  // namespace hera::render
