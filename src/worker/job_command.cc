#include "worker/job_command.h"

#include "absl/strings/str_cat.h"

namespace hera::worker {
namespace {

// The user of the `sudo -n -u USER ...` prefix the master puts before a run-as command
// (master/run_command.cc); empty for any other argv.
std::string RunAsUserOf(const std::vector<std::string>& argv) {
  if (argv.size() > 4 && argv[0] == "sudo" && argv[1] == "-n" && argv[2] == "-u") return argv[3];
  return "";
}

}  // namespace

absl::StatusOr<JobCommand> CommandFor(core::JobType type) {
  switch (type) {
    case core::JobType::kShell:
      return JobCommand{{"bash", "script.sh"}, "script.sh", ""};
    case core::JobType::kPython:
      return JobCommand{{"python3", "script.py"}, "script.py", ""};
    case core::JobType::kHive:
      return JobCommand{{"hive", "-f", "script.hql"}, "script.hql", ""};
    case core::JobType::kSparkSql:
      return JobCommand{{"spark-sql", "-f", "script.sql"}, "script.sql", ""};
    case core::JobType::kJava:
      break;
  }
  return absl::UnimplementedError(
      absl::StrCat("job type ", core::Name(type), " cannot run on this worker yet"));
}

absl::StatusOr<JobCommand> CommandOf(const core::DispatchOrder& order) {
  if (order.argv.empty()) return CommandFor(order.type);
  return JobCommand{order.argv, order.script_name, RunAsUserOf(order.argv)};
}

}  // namespace hera::worker
