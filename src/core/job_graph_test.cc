#include "core/job_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace hera::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Reached = JobGraph::Reached;

std::vector<JobId> Ids(std::span<const JobId> s) { return {s.begin(), s.end()}; }

// 4 depends on 2 and 3, which depend on 1 (a diamond); 9 depends on 8 (apart).
JobGraph Diamond() { return JobGraph({{4, {3, 2}}, {2, {1}}, {3, {1}}, {1, {}}, {9, {8}}}); }

TEST(JobGraphTest, UpstreamAndDownstreamAreSortedAndIncludeReferencedJobs) {
  const JobGraph g = Diamond();
  EXPECT_EQ(g.size(), 6u) << "8 is referenced only";
  EXPECT_THAT(g.ids(), ElementsAre(1, 2, 3, 4, 8, 9));
  EXPECT_THAT(Ids(g.upstream(4)), ElementsAre(2, 3));
  EXPECT_THAT(Ids(g.downstream(1)), ElementsAre(2, 3));
  EXPECT_THAT(Ids(g.downstream(8)), ElementsAre(9));
  EXPECT_THAT(Ids(g.upstream(8)), IsEmpty());
  EXPECT_THAT(Ids(g.upstream(77)), IsEmpty());
  EXPECT_FALSE(g.contains(77));
}

TEST(JobGraphTest, RepeatedEdgesAndEntriesMerge) {
  const JobGraph g({{2, {1, 1}}, {2, {3, 1}}});
  EXPECT_THAT(Ids(g.upstream(2)), ElementsAre(1, 3));
  EXPECT_THAT(Ids(g.downstream(1)), ElementsAre(2));
}

TEST(JobGraphTest, FromJobsReadsDependsOn) {
  Job a, b;
  a.id = 1;
  b.id = 2;
  b.schedule.depends_on = {{1, DependencyPeriod::kLatestBefore}};
  const JobGraph g = JobGraph::FromJobs({&b, &a});
  EXPECT_THAT(Ids(g.upstream(2)), ElementsAre(1));
}

struct TopoCase {
  const char* name;
  std::vector<JobGraph::Entry> entries;
  std::vector<JobId> want;
};

TEST(JobGraphTest, TopologicalOrderIsUpstreamsFirstThenLowestId) {
  const TopoCase cases[] = {
      {"empty", {}, {}},
      {"diamond", {{4, {3, 2}}, {2, {1}}, {3, {1}}, {1, {}}, {9, {8}}}, {1, 2, 3, 4, 8, 9}},
      {"a high id ready early goes first", {{1, {5}}, {2, {}}}, {2, 5, 1}},
      {"chain given backwards", {{4, {3}}, {3, {2}}, {2, {1}}}, {1, 2, 3, 4}},
      {"ready set reopens lower ids", {{3, {1}}, {2, {}}, {1, {}}, {4, {2, 3}}}, {1, 2, 3, 4}},
  };
  for (const TopoCase& c : cases) {
    const auto order = JobGraph(c.entries).TopologicalOrder();
    ASSERT_TRUE(order.ok()) << c.name << ": " << order.status();
    EXPECT_EQ(*order, c.want) << c.name;
  }
}

TEST(JobGraphTest, TopologicalOrderNamesACycle) {
  const JobGraph g({{1, {2}}, {2, {3}}, {3, {1}}, {4, {}}});
  const auto order = g.TopologicalOrder();
  ASSERT_FALSE(order.ok());
  EXPECT_EQ(order.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(order.status().message(), "jobs form a cycle: 1 → 2 → 3 → 1");
}

TEST(JobGraphTest, FindCycle) {
  EXPECT_EQ(Diamond().FindCycle(), std::nullopt);
  EXPECT_EQ(JobGraph(std::vector<JobGraph::Entry>{{7, {7}}}).FindCycle(),
            (std::vector<JobId>{7, 7}));
  // Reached from 1 (acyclic part) first; written from its lowest id.
  EXPECT_EQ(JobGraph({{1, {5}}, {5, {6}}, {6, {4}}, {4, {5}}}).FindCycle(),
            (std::vector<JobId>{4, 5, 6, 4}));
}

struct SaveCase {
  const char* name;
  std::vector<JobGraph::Entry> graph;
  JobId job;
  std::vector<JobId> new_upstreams;
  std::optional<std::vector<JobId>> want;
};

TEST(JobGraphTest, FindCycleIfSaved) {
  // clang-format off
  const SaveCase cases[] = {
      {"closes 5 → 3 → 7 → 5", {{3, {7}}, {7, {5}}}, 5, {3}, std::vector<JobId>{5, 3, 7, 5}},
      {"self", {}, 5, {5}, std::vector<JobId>{5, 5}},
      {"self among others", {{1, {}}}, 5, {1, 5}, std::vector<JobId>{5, 5}},
      {"two hops back", {{2, {1}}}, 1, {2}, std::vector<JobId>{1, 2, 1}},
      {"no cycle", {{2, {1}}, {3, {2}}}, 4, {3, 1}, std::nullopt},
      {"new job", {{2, {1}}}, 10, {2}, std::nullopt},
      {"unknown upstream", {{2, {1}}}, 1, {99}, std::nullopt},
      {"the save replaces the upstream that closed it", {{1, {2}}, {2, {1}}}, 1, {3},
       std::nullopt},
      {"another cycle is not this save's", {{8, {9}}, {9, {8}}}, 5, {8}, std::nullopt},
      {"shortest of two", {{2, {3}}, {3, {4}}, {4, {1}}, {6, {1}}}, 1, {2, 6},
       std::vector<JobId>{1, 6, 1}},
      {"equal lengths: lowest upstream", {{2, {1}}, {3, {1}}}, 1, {3, 2},
       std::vector<JobId>{1, 2, 1}},
  };  // clang-format on

  for (const SaveCase& c : cases) {
    EXPECT_EQ(FindCycleIfSaved(JobGraph(c.graph), c.job, c.new_upstreams), c.want) << c.name;
  }
}

TEST(JobGraphTest, DescribesTheCycle) {
  EXPECT_EQ(DescribeCycleIfSaved(5, {5, 3, 7, 5}),
            "saving job 5 would close the cycle 5 → 3 → 7 → 5");
  EXPECT_EQ(FormatCyclePath({5, 5}), "5 → 5");
}

TEST(JobGraphTest, ClosuresWithDepthLimit) {
  // 1 ← 2 ← 3 ← 4 plus 4 depends on 1 directly: 1 is at depth 1 from 4, not 3.
  const JobGraph g({{2, {1}}, {3, {2}}, {4, {3, 1}}});
  EXPECT_THAT(g.UpstreamClosure(4), ElementsAre(Reached{1, 1}, Reached{3, 1}, Reached{2, 2}));
  EXPECT_THAT(g.UpstreamClosure(4, 1), ElementsAre(Reached{1, 1}, Reached{3, 1}));
  EXPECT_THAT(g.UpstreamClosure(4, 0), IsEmpty());
  EXPECT_THAT(g.DownstreamClosure(1), ElementsAre(Reached{2, 1}, Reached{4, 1}, Reached{3, 2}));
  EXPECT_THAT(g.DownstreamClosure(2, 1), ElementsAre(Reached{3, 1}));
  EXPECT_THAT(g.DownstreamClosure(77), IsEmpty());
  // A cycle does not loop forever and the start is never reported.
  EXPECT_THAT(JobGraph({{1, {2}}, {2, {1}}}).UpstreamClosure(1), ElementsAre(Reached{2, 1}));
}

// 100,000 jobs in one chain: nothing recurses, and a cycle through all of them is found.
TEST(JobGraphTest, LongChain) {
  constexpr JobId kN = 100000;
  std::vector<JobGraph::Entry> entries;
  entries.reserve(kN);
  for (JobId i = 1; i <= kN; ++i) {
    entries.push_back({i, i > 1 ? std::vector<JobId>{i - 1} : std::vector<JobId>{}});
  }
  const JobGraph g(entries);
  const auto order = g.TopologicalOrder();
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->front(), 1);
  EXPECT_EQ(order->back(), kN);
  const auto cycle = FindCycleIfSaved(g, 1, {kN});
  ASSERT_TRUE(cycle.has_value());
  EXPECT_EQ(cycle->size(), static_cast<size_t>(kN) + 1);
  EXPECT_EQ((*cycle)[1], kN);
  EXPECT_EQ(g.DownstreamClosure(1).size(), static_cast<size_t>(kN) - 1);
  EXPECT_EQ(g.DownstreamClosure(1, 10).back(), (Reached{11, 10}));
  EXPECT_EQ(JobGraph(entries).FindCycle(), std::nullopt);
}

}  // namespace
}  // namespace hera::core
