#pragma once
// Which time zone a job's times and date macros are in, and why (docs/concepts.md "Time
// zones"). A dependent job without a cron takes its actions' times from an upstream, so unless
// it names a zone it takes that upstream's zone too: a chain renders one date for one day.

#include <functional>
#include <map>
#include <string>

#include "core/model.h"

namespace hera::core {

struct JobZone {
  std::string name;    // an IANA name; empty: the server's zone
  std::string reason;  // why, for people: "the job's own", "inherited from upstream job 3 …"
  JobId inherited_from = 0;  // the upstream job whose zone it took, or 0
};

// Finds a job by id (null: unknown); what it returns must live until ZoneOfJob returns.
using JobFinder = std::function<const Job*(JobId)>;

// The zone of `job`: its own when it names one; else, for a job with upstreams and no cron,
// that of its upstreams (those on `nearest` edges first; where they differ, the first listed
// wins), followed up the chain; else the server's.
// `memo` (may be null) keeps the zones of the upstreams looked up, by job id, across calls: the
// caller clears it when a job changes (a chain of N jobs then costs O(N) in all, not O(N²)).
JobZone ZoneOfJob(const Job& job, const JobFinder& find,
                  std::map<JobId, JobZone>* memo = nullptr);

}  // namespace hera::core
