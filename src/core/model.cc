#include "core/model.h"

#include <array>
#include <utility>

namespace hera::core {
namespace {

template <typename E, size_t N>
std::string NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
  for (const auto& [e, name] : table) {
    if (e == v) return std::string(name);
  }
  return "unknown";
}

template <typename E, size_t N>
std::optional<E> Parse(const std::array<std::pair<E, std::string_view>, N>& table,
                       std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<JobType, std::string_view>, 5> kJobTypes{{
    {JobType::kShell, "shell"},
    {JobType::kPython, "python"},
    {JobType::kHive, "hive"},
    {JobType::kSparkSql, "spark_sql"},
    {JobType::kJava, "java"},
}};
constexpr std::array<std::pair<Priority, std::string_view>, 3> kPriorities{{
    {Priority::kLow, "low"}, {Priority::kMedium, "medium"}, {Priority::kHigh, "high"}}};
constexpr std::array<std::pair<DependencyPeriod, std::string_view>, 4> kPeriods{{
    {DependencyPeriod::kNearest, "nearest"},
    {DependencyPeriod::kAllOfDay, "all_of_day"},
    {DependencyPeriod::kLatestBefore, "latest_before"},
    {DependencyPeriod::kPreviousDay, "previous_day"},
}};
constexpr std::array<std::pair<MissedPolicy, std::string_view>, 3> kMissed{{
    {MissedPolicy::kRunAll, "run_all"},
    {MissedPolicy::kRunLatest, "run_latest"},
    {MissedPolicy::kSkip, "skip"}}};
constexpr std::array<std::pair<Trigger, std::string_view>, 7> kTriggers{{
    {Trigger::kSchedule, "schedule"},
    {Trigger::kManual, "manual"},
    {Trigger::kRecovery, "recovery"},
    {Trigger::kSuperRecovery, "super_recovery"},
    {Trigger::kRerun, "rerun"},
    {Trigger::kDebug, "debug"},
    {Trigger::kApi, "api"},
}};
constexpr std::array<std::pair<ActionStatus, std::string_view>, 8> kActionStatuses{{
    {ActionStatus::kPending, "pending"},
    {ActionStatus::kWaiting, "waiting"},
    {ActionStatus::kQueued, "queued"},
    {ActionStatus::kRunning, "running"},
    {ActionStatus::kSuccess, "success"},
    {ActionStatus::kFailed, "failed"},
    {ActionStatus::kCancelled, "cancelled"},
    {ActionStatus::kSkipped, "skipped"},
}};
constexpr std::array<std::pair<RunStatus, std::string_view>, 6> kRunStatuses{{
    {RunStatus::kQueued, "queued"},
    {RunStatus::kRunning, "running"},
    {RunStatus::kSuccess, "success"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kCancelled, "cancelled"},
    {RunStatus::kLost, "lost"},
}};

constexpr std::array<std::pair<RerunStatus, std::string_view>, 4> kRerunStatuses{{
    {RerunStatus::kRunning, "running"}, {RerunStatus::kDone, "done"},
    {RerunStatus::kStopped, "stopped"}, {RerunStatus::kWaiting, "waiting"}}};

}  // namespace

std::string Name(RerunStatus v) { return NameOf(kRerunStatuses, v); }

constexpr std::array<std::pair<BackfillStatus, std::string_view>, 3> kBackfillStatuses{{
    {BackfillStatus::kRunning, "running"}, {BackfillStatus::kDone, "done"},
    {BackfillStatus::kStopped, "stopped"}}};
std::string Name(BackfillStatus v) { return NameOf(kBackfillStatuses, v); }
std::optional<BackfillStatus> ParseBackfillStatus(std::string_view s) {
  return Parse(kBackfillStatuses, s);
}

constexpr std::array<std::pair<NodeState, std::string_view>, 5> kNodeStates{{
    {NodeState::kPending, "pending"}, {NodeState::kRunning, "running"},
    {NodeState::kSuccess, "success"}, {NodeState::kFailed, "failed"},
    {NodeState::kSkipped, "skipped"}}};
std::string Name(NodeState v) { return NameOf(kNodeStates, v); }
std::optional<NodeState> ParseNodeState(std::string_view s) { return Parse(kNodeStates, s); }
std::optional<RerunStatus> ParseRerunStatus(std::string_view s) {
  return Parse(kRerunStatuses, s);
}
std::string Name(JobType v) { return NameOf(kJobTypes, v); }
std::string Name(Priority v) { return NameOf(kPriorities, v); }
std::string Name(DependencyPeriod v) { return NameOf(kPeriods, v); }
std::string Name(MissedPolicy v) { return NameOf(kMissed, v); }
std::string Name(Trigger v) { return NameOf(kTriggers, v); }
std::string Name(ActionStatus v) { return NameOf(kActionStatuses, v); }
std::string Name(RunStatus v) { return NameOf(kRunStatuses, v); }
std::optional<JobType> ParseJobType(std::string_view s) { return Parse(kJobTypes, s); }
std::optional<Priority> ParsePriority(std::string_view s) { return Parse(kPriorities, s); }
std::optional<DependencyPeriod> ParseDependencyPeriod(std::string_view s) {
  return Parse(kPeriods, s);
}
std::optional<MissedPolicy> ParseMissedPolicy(std::string_view s) { return Parse(kMissed, s); }
std::optional<Trigger> ParseTrigger(std::string_view s) { return Parse(kTriggers, s); }
std::optional<ActionStatus> ParseActionStatus(std::string_view s) {
  return Parse(kActionStatuses, s);
}
std::optional<RunStatus> ParseRunStatus(std::string_view s) { return Parse(kRunStatuses, s); }

bool IsTerminal(RunStatus s) {
  return s != RunStatus::kQueued && s != RunStatus::kRunning;
}
bool IsTerminal(ActionStatus s) {
  return s == ActionStatus::kSuccess || s == ActionStatus::kFailed ||
         s == ActionStatus::kCancelled || s == ActionStatus::kSkipped;
}

}  // namespace hera::core
