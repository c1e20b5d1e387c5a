#include "core/job_zone.h"

#include <gtest/gtest.h>

#include <map>

namespace hera::core {
namespace {

Job MakeJob(JobId id, std::string cron, std::string zone,
            std::vector<Dependency> depends_on = {}) {
  Job j;
  j.id = id;
  j.name = "job" + std::to_string(id);
  j.schedule.cron = std::move(cron);
  j.schedule.timezone = std::move(zone);
  j.schedule.depends_on = std::move(depends_on);
  return j;
}

class JobZoneTest : public ::testing::Test {
 protected:
  void Add(Job j) { jobs_[j.id] = std::move(j); }
  JobZone Of(JobId id) {
    return ZoneOfJob(jobs_.at(id), [this](JobId up) -> const Job* {
      auto it = jobs_.find(up);
      return it == jobs_.end() ? nullptr : &it->second;
    });
  }
  std::map<JobId, Job> jobs_;
};

TEST_F(JobZoneTest, ADependentChainTakesTheZoneOfTheJobItsTimesComeFrom) {
  Add(MakeJob(1, "0 30 1 * * ?", "Asia/Shanghai"));        // extract
  Add(MakeJob(2, "", "", {{1, DependencyPeriod::kNearest}}));  // transform
  Add(MakeJob(3, "", "", {{2, DependencyPeriod::kNearest}}));  // load
  EXPECT_EQ(Of(1).name, "Asia/Shanghai");
  EXPECT_EQ(Of(1).reason, "the job's own zone");
  EXPECT_EQ(Of(2).name, "Asia/Shanghai");
  EXPECT_EQ(Of(2).inherited_from, 1);
  EXPECT_NE(Of(2).reason.find("inherited from upstream job 1 ('job1')"), std::string::npos);
  EXPECT_EQ(Of(3).name, "Asia/Shanghai");
  EXPECT_EQ(Of(3).inherited_from, 2);
  EXPECT_NE(Of(3).reason.find("which has it from its own upstreams"), std::string::npos);
}

TEST_F(JobZoneTest, AZoneOrACronOfItsOwnKeepsTheJobsOrTheServersZone) {
  Add(MakeJob(1, "0 30 1 * * ?", "Asia/Shanghai"));
  Add(MakeJob(2, "", "Europe/Paris", {{1, DependencyPeriod::kNearest}}));
  Add(MakeJob(3, "0 0 3 * * ?", "", {{1, DependencyPeriod::kNearest}}));
  Add(MakeJob(4, "", ""));
  EXPECT_EQ(Of(2).name, "Europe/Paris");
  EXPECT_EQ(Of(3).name, "") << "its own cron fires in the server's zone";
  EXPECT_NE(Of(3).reason.find("has a cron"), std::string::npos);
  EXPECT_EQ(Of(4).name, "");
}

TEST_F(JobZoneTest, WhereUpstreamsDifferTheFirstNearestOneDecidesAndTheReasonSaysSo) {
  Add(MakeJob(1, "0 0 1 * * ?", "Asia/Shanghai"));
  Add(MakeJob(2, "0 0 2 * * ?", "America/New_York"));
  Add(MakeJob(3, "", "",
              {{2, DependencyPeriod::kAllOfDay}, {1, DependencyPeriod::kNearest}}));
  EXPECT_EQ(Of(3).name, "Asia/Shanghai") << "a nearest edge comes before the others";
  EXPECT_NE(Of(3).reason.find("zones differ"), std::string::npos);
  Add(MakeJob(4, "", "", {{1, DependencyPeriod::kNearest}, {1, DependencyPeriod::kAllOfDay}}));
  EXPECT_EQ(Of(4).reason.find("zones differ"), std::string::npos) << "one upstream twice";
}

TEST_F(JobZoneTest, UnknownUpstreamsAndCyclesFallBackToTheServersZone) {
  Add(MakeJob(1, "", "", {{9, DependencyPeriod::kNearest}}));
  EXPECT_EQ(Of(1).name, "");
  Add(MakeJob(5, "", "", {{6, DependencyPeriod::kNearest}}));
  Add(MakeJob(6, "", "", {{5, DependencyPeriod::kNearest}}));
  EXPECT_EQ(Of(5).name, "");
}

}  // namespace
}  // namespace hera::core
