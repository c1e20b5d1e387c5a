#include "common/short_slices.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace hera {
namespace {

// The calling thread's slice in ns, from /proc/thread-self/sched (absent without
// CONFIG_SCHED_DEBUG, or before EEVDF).
std::optional<long long> SliceOfThisThread() {
  std::ifstream in("/proc/thread-self/sched");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("se.slice", 0) == 0) return std::stoll(line.substr(line.find(':') + 1));
  }
  return std::nullopt;
}

// Custom slices came with Linux 6.12.
bool KernelHasCustomSlices() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0;
  int minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 12);
}

TEST(ShortSlicesTest, ShortensTheSliceAndKeepsTheNiceValue) {
  std::thread([] {
    const pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
    ASSERT_EQ(::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 5), 0);
    const std::optional<long long> before = SliceOfThisThread();
    if (!before) GTEST_SKIP() << "no se.slice in /proc/thread-self/sched";
    if (!KernelHasCustomSlices()) GTEST_SKIP() << "kernel before 6.12";
    ASSERT_TRUE(RequestShortSlices());
    EXPECT_EQ(SliceOfThisThread(), 100'000);
    EXPECT_NE(*before, 100'000);
    errno = 0;
    EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(tid)), 5);
    EXPECT_EQ(errno, 0);
  }).join();
}

TEST(ShortSlicesTest, ThreadsStartedAfterwardsGetTheDefaultSlice) {
  std::thread([] {
    const std::optional<long long> normal = SliceOfThisThread();
    if (!normal) GTEST_SKIP() << "no se.slice in /proc/thread-self/sched";
    if (!KernelHasCustomSlices()) GTEST_SKIP() << "kernel before 6.12";
    ASSERT_TRUE(RequestShortSlices());
    std::optional<long long> inner;
    std::thread([&inner] { inner = SliceOfThisThread(); }).join();
    EXPECT_EQ(inner, normal);
  }).join();
}

}  // namespace
}  // namespace hera
