#include "worker/job_command.h"

#include "absl/strings/str_cat.h"

namespace hera::worker {

absl::StatusOr<JobCommand> CommandFor(core::JobType type) {
  switch (type) {
    case core::JobType::kShell:
      return JobCommand{{"bash", "script.sh"}, "script.sh"};
    case core::JobType::kPython:
      return JobCommand{{"python3", "script.py"}, "script.py"};
    case core::JobType::kHive:
      return JobCommand{{"hive", "-f", "script.hql"}, "script.hql"};
    case core::JobType::kSparkSql:
      return JobCommand{{"spark-sql", "-f", "script.sql"}, "script.sql"};
    case core::JobType::kJava:
      break;
  }
  return absl::UnimplementedError(
      absl::StrCat("job type ", core::Name(type), " cannot run on this worker yet"));
}

}  // namespace hera::worker
