#pragma once
// Which command template runs each job type (SEMANTICS.md §7). The master decides, at dispatch,
// so one place configures a whole cluster: the built-in templates, replaced for every host group
// or for one by `hera server --command TYPE[@HOSTGROUP]=TEMPLATE`. Immutable after FromFlags;
// safe to share across threads.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/model.h"
#include "render/command_template.h"

namespace hera::master {

class CommandTable {
 public:
  // The built-in templates only: shell `bash {script}`, python `python3 {script}`, hive
  // `{hive} -f {script}`, spark_sql `spark-sql {spark_conf} -f {script}`, java
  // `java {java_opts} -jar {jar} {args}`.
  CommandTable();

  // The built-ins with `specs` (values of --command) applied: "TYPE=TEMPLATE" replaces a type's
  // template everywhere, "TYPE@HOSTGROUP=TEMPLATE" for jobs of that host group only.
  // InvalidArgument naming the value and what is wrong: no '=', an unknown job type, an empty
  // host group, a bad template, or the same TYPE[@HOSTGROUP] given twice.
  static absl::StatusOr<CommandTable> FromFlags(const std::vector<std::string>& specs);

  // The template for a job of `type` in `host_group`: that host group's, else the global one.
  const render::CommandTemplate& Pick(core::JobType type, std::string_view host_group) const;

  // The file a job type's rendered script is written to, in the work directory: script.sh,
  // script.py, script.hql, script.sql, or script.txt for java (written, possibly empty, but
  // used only by a template or config that names {script}).
  static std::string ScriptName(core::JobType type);

 private:
  std::map<core::JobType, render::CommandTemplate> global_;
  std::map<std::pair<core::JobType, std::string>, render::CommandTemplate> by_group_;
};

}  // namespace hera::master
