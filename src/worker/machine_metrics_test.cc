#include "worker/machine_metrics.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "exec/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hera::worker {
namespace {

using ::hera::exec::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kProcStat[] =
    "cpu  100 20 30 800 50 5 5 10 7 0\n"
    "cpu0 50 10 15 400 25 2 3 5 3 0\n"
    "cpu1 50 10 15 400 25 3 2 5 4 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n"
    "btime 1700000000\n"
    "processes 42\n";

TEST(ParseProcStatTest, SumsBusyAndIdleColumnsAndCountsCpus) {
  absl::StatusOr<CpuTimes> t = ParseProcStat(kProcStat);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->busy, 100u + 20 + 30 + 5 + 5 + 10);  // guest (7) is inside user already.
  EXPECT_EQ(t->total, t->busy + 800 + 50);          // iowait counts as idle.
  EXPECT_EQ(t->cpus, 2);
}

TEST(ParseProcStatTest, OldKernelWithFourColumns) {
  absl::StatusOr<CpuTimes> t = ParseProcStat("cpu 1 2 3 4\ncpu0 1 2 3 4\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->busy, 6u);
  EXPECT_EQ(t->total, 10u);
  EXPECT_EQ(t->cpus, 1);
}

TEST(ParseProcStatTest, MalformedTextNamesTheProblem) {
  EXPECT_THAT(std::string(ParseProcStat("intr 1\n").status().message()), HasSubstr("no aggregate"));
  EXPECT_THAT(std::string(ParseProcStat("cpu 1 2 3\n").status().message()), HasSubstr("short"));
  EXPECT_THAT(std::string(ParseProcStat("cpu 1 2 x 4\n").status().message()),
              HasSubstr("column 3"));
  EXPECT_EQ(ParseProcStat("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CpuPercentTest, BusyShareBetweenSamplesOrSinceBoot) {
  CpuTimes before{100, 1000, 2};
  CpuTimes after{150, 1100, 2};
  EXPECT_DOUBLE_EQ(CpuPercent(before, after), 50.0);
  EXPECT_DOUBLE_EQ(CpuPercent(std::nullopt, after), 100.0 * 150 / 1100);
  EXPECT_DOUBLE_EQ(CpuPercent(after, after), 100.0 * 150 / 1100);  // Same tick: since boot.
  EXPECT_DOUBLE_EQ(CpuPercent(std::nullopt, CpuTimes{}), 0.0);
}

TEST(ParseMeminfoTest, UsedIsTotalMinusAvailable) {
  absl::StatusOr<MemInfo> m = ParseMeminfo(
      "MemTotal:       16000000 kB\n"
      "MemFree:         1000000 kB\n"
      "MemAvailable:    6000000 kB\n"
      "Buffers:          200000 kB\n"
      "Cached:          4000000 kB\n"
      "HugePages_Total:       0\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->total_bytes, int64_t{16000000} * 1024);
  EXPECT_EQ(m->available_bytes, int64_t{6000000} * 1024);
}

TEST(ParseMeminfoTest, WithoutMemAvailableFreePlusCaches) {
  absl::StatusOr<MemInfo> m = ParseMeminfo(
      "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->available_bytes, int64_t{420} * 1024);
}

TEST(ParseMeminfoTest, MissingOrBadValues) {
  EXPECT_EQ(ParseMeminfo("MemFree: 1 kB\n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ParseMeminfo("MemTotal: lots kB\nMemFree: 1 kB\n").status().message()),
              HasSubstr("MemTotal: lots kB"));
}

TEST(ParseLoadavgTest, FirstFieldIsTheOneMinuteLoad) {
  absl::StatusOr<double> load = ParseLoadavg("0.52 0.58 0.59 1/467 12345\n");
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_DOUBLE_EQ(*load, 0.52);
  EXPECT_FALSE(ParseLoadavg("").ok());
  EXPECT_FALSE(ParseLoadavg("high 1 1\n").ok());
  EXPECT_FALSE(ParseLoadavg("-1 1 1\n").ok());
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(MetricsSamplerTest, ReadsAnInjectedProcRoot) {
  TempDir proc;
  WriteFile(proc.Sub("stat"), "cpu 100 0 0 900 0 0 0 0\ncpu0 0 0 0 0\ncpu1 0 0 0 0\n");
  WriteFile(proc.Sub("loadavg"), "3.00 2.00 1.00 1/100 4242\n");
  WriteFile(proc.Sub("meminfo"), "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\n");
  MetricsSampler sampler(proc.path(), proc.path());

  absl::StatusOr<MachineMetrics> first = sampler.Sample();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->cpus, 2);
  EXPECT_DOUBLE_EQ(first->cpu_percent, 10.0);  // Since boot: 100 of 1000 ticks.
  EXPECT_DOUBLE_EQ(first->load_per_core, 1.5);
  EXPECT_EQ(first->memory_total_bytes, 1000 * 1024);
  EXPECT_EQ(first->memory_used_bytes, 750 * 1024);
  EXPECT_GT(first->disk_free_bytes, 0);

  // 300 of the next 400 ticks busy.
  WriteFile(proc.Sub("stat"), "cpu 400 0 0 1000 0 0 0 0\ncpu0 0 0 0 0\ncpu1 0 0 0 0\n");
  absl::StatusOr<MachineMetrics> second = sampler.Sample();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_DOUBLE_EQ(second->cpu_percent, 75.0);
}

TEST(MetricsSamplerTest, ErrorsNameTheFileOrDirectory) {
  TempDir proc;
  MetricsSampler missing_proc(proc.path(), proc.Sub("nowhere"));
  EXPECT_THAT(std::string(missing_proc.Sample().status().message()), HasSubstr("nowhere/stat"));

  MetricsSampler missing_dir(proc.Sub("no-work-dir"));
  absl::StatusOr<MachineMetrics> m = missing_dir.Sample();
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("no-work-dir"));
}

TEST(MetricsSamplerTest, RealProcIsSane) {
  TempDir work;
  MetricsSampler sampler(work.path());
  ASSERT_TRUE(sampler.Sample().ok());
  absl::StatusOr<MachineMetrics> m = sampler.Sample();
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_GE(m->cpus, 1);
  EXPECT_EQ(m->cpus, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GE(m->cpu_percent, 0.0);
  EXPECT_LE(m->cpu_percent, 100.0);
  EXPECT_GE(m->load_per_core, 0.0);
  EXPECT_LT(m->load_per_core, 1000.0);
  EXPECT_GT(m->memory_total_bytes, int64_t{64} << 20);
  EXPECT_GT(m->memory_used_bytes, 0);
  EXPECT_LE(m->memory_used_bytes, m->memory_total_bytes);
  EXPECT_GT(m->disk_free_bytes, 0);
}

}  // namespace
}  // namespace hera::worker
