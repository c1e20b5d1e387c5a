#pragma once
// Reads the few /proc/<pid>/stat fields the runner needs to identify processes and groups.

#include <sys/types.h>

#include <cstdint>
#include <optional>

#include "absl/container/flat_hash_set.h"

namespace hera::exec {

struct ProcStat {
  char state = '?';         // Field 3: R, S, D, Z, T, ...
  pid_t pgrp = 0;           // Field 5: process group id.
  uint64_t start_time = 0;  // Field 22: start time in clock ticks since boot; with the pid it
                            // identifies a process across pid reuse.
};

// The current time in the unit and clock of ProcStat::start_time: clock ticks since boot.
uint64_t BootTicksNow();

// Returns the fields of /proc/<pid>/stat, or nullopt if the process does not exist (or the
// file cannot be parsed).
std::optional<ProcStat> ReadProcStat(pid_t pid);

// Returns true if some process other than `except` in process group `pgid` is alive, i.e.
// exists and is not a zombie. Scans /proc, so it costs one read per process on the host.
bool GroupHasLiveMembers(pid_t pgid, pid_t except = 0);

// GroupHasLiveMembers(leader, leader) for the group of a leader we spawned, cheaply: every other
// member descends from the leader, so its pid was allocated after the leader's, in
// (leader, ns_last_pid]; when that range is small and did not wrap, only its pids are read
// (a short run: a handful) instead of every process on the host. Valid only while fewer than
// pid_max pids can have been allocated since the spawn: callers use it for short-lived runs.
// Pids in `other_leaders` (leaders of other groups this process spawned and has not reaped, so
// their pids cannot have been reused) are not read: typically the whole range.
bool SpawnedGroupHasLiveMembers(pid_t leader, const absl::flat_hash_set<pid_t>& other_leaders = {});

}  // namespace hera::exec
