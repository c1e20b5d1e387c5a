#include "master/command_table.h"

#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hera::master {
namespace {

constexpr std::pair<core::JobType, std::string_view> kBuiltIn[] = {
    {core::JobType::kShell, "bash {script}"},
    {core::JobType::kPython, "python3 {script}"},
    // Through {hive} so that a job or group may name its binary with hera.hive.bin; unset, the
    // command is `hive -f script.hql`.
    {core::JobType::kHive, "{hive} -f {script}"},
    {core::JobType::kSparkSql, "spark-sql {spark_conf} -f {script}"},
    {core::JobType::kJava, "java {java_opts} -jar {jar} {args}"},
};

}  // namespace

CommandTable::CommandTable() {
  for (const auto& [type, text] : kBuiltIn) {
    absl::StatusOr<render::CommandTemplate> parsed = render::CommandTemplate::Parse(text);
    if (!parsed.ok()) std::abort();  // a typo in kBuiltIn: the unit tests catch it
    global_.emplace(type, *std::move(parsed));
  }
}

absl::StatusOr<CommandTable> CommandTable::FromFlags(const std::vector<std::string>& specs) {
  CommandTable table;
  std::set<std::string> seen;
  for (const std::string& spec : specs) {
    auto fail = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("--command '", spec, "': ", why));
    };
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) return fail("expected TYPE=TEMPLATE or TYPE@HOSTGROUP=TEMPLATE");
    const std::string target = spec.substr(0, eq);
    std::pair<std::string, std::string> type_group =
        absl::StrSplit(target, absl::MaxSplits('@', 1));
    const std::optional<core::JobType> type = core::ParseJobType(type_group.first);
    if (!type) {
      return fail(absl::StrCat("unknown job type '", type_group.first,
                               "' (one of shell, python, hive, spark_sql, java)"));
    }
    const bool for_group = target.find('@') != std::string::npos;
    if (for_group && type_group.second.empty()) return fail("empty host group after '@'");
    if (!seen.insert(target).second) return fail(absl::StrCat(target, " is given twice"));
    absl::StatusOr<render::CommandTemplate> parsed =
        render::CommandTemplate::Parse(std::string_view(spec).substr(eq + 1));
    if (!parsed.ok()) return fail(parsed.status().message());
    if (for_group) {
      table.by_group_.insert_or_assign({*type, type_group.second}, *std::move(parsed));
    } else {
      table.global_.insert_or_assign(*type, *std::move(parsed));
    }
  }
  return table;
}

const render::CommandTemplate& CommandTable::Pick(core::JobType type,
                                                  std::string_view host_group) const {
  auto it = by_group_.find(std::pair<core::JobType, std::string>(type, host_group));
  if (it != by_group_.end()) return it->second;
  return global_.at(type);  // every type has a built-in
}

std::string CommandTable::ScriptName(core::JobType type) {
  switch (type) {
    case core::JobType::kShell:
      return "script.sh";
    case core::JobType::kPython:
      return "script.py";
    case core::JobType::kHive:
      return "script.hql";
    case core::JobType::kSparkSql:
      return "script.sql";
    case core::JobType::kJava:
      return "script.txt";
  }
  std::abort();  // not a JobType
}

}  // namespace hera::master
