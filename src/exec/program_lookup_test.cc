#include "exec/program_lookup.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "exec/test_util.h"

namespace hera::exec {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1790000000);

class ProgramLookupTest : public ::testing::Test {
 protected:
  // An executable `name` in directory `dir` (created).
  std::string Install(const std::string& dir, const std::string& name) {
    const std::string d = tmp_.Sub(dir);
    std::filesystem::create_directories(d);
    const std::string path = d + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }
  std::vector<std::string> Env(const std::string& path) { return {"HOME=/", "PATH=" + path}; }
  testing::TempDir tmp_;
  ProgramLookup lookup_;
};

TEST_F(ProgramLookupTest, FindsTheFirstExecutableInTheChildsPath) {
  Install("b", "tool");
  const std::string first = Install("a", "tool");
  const std::string path = tmp_.Sub("a") + ":" + tmp_.Sub("b");
  EXPECT_EQ(*lookup_.Find("tool", Env(path), "/", kT0), first);
  EXPECT_EQ(*lookup_.Find("/bin/sh", Env(path), "/", kT0), "/bin/sh");
  auto missing = lookup_.Find("no-such-tool", Env(path), "/", kT0);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no-such-tool"), std::string::npos);
}

TEST_F(ProgramLookupTest, ARememberedProgramThatWentAwayIsSearchedAgain) {
  const std::string first = Install("a", "tool");
  const std::string second = Install("b", "tool");
  const std::string path = tmp_.Sub("a") + ":" + tmp_.Sub("b");
  ASSERT_EQ(*lookup_.Find("tool", Env(path), "/", kT0), first);
  ASSERT_EQ(::unlink(first.c_str()), 0);
  EXPECT_EQ(*lookup_.Find("tool", Env(path), "/", kT0 + absl::Seconds(1)), second);
}

TEST_F(ProgramLookupTest, AProgramInstalledEarlierInPathIsUsedOnceTheMemoryExpires) {
  const std::string later = Install("b", "tool");
  const std::string path = tmp_.Sub("a") + ":" + tmp_.Sub("b");
  ASSERT_EQ(*lookup_.Find("tool", Env(path), "/", kT0), later);
  const std::string earlier = Install("a", "tool");
  EXPECT_EQ(*lookup_.Find("tool", Env(path), "/", kT0 + absl::Seconds(1)), later);
  EXPECT_EQ(*lookup_.Find("tool", Env(path), "/", kT0 + ProgramLookup::kRemembered), earlier);
}

TEST_F(ProgramLookupTest, RelativePathEntriesFollowTheWorkingDirectory) {
  const std::string in_x = Install("x/bin", "tool");
  const std::string in_y = Install("y/bin", "tool");
  EXPECT_EQ(*lookup_.Find("tool", Env("bin"), tmp_.Sub("x"), kT0), "bin/tool");
  ::unlink(in_x.c_str());
  // Not remembered from the first working directory: found again from the second.
  EXPECT_EQ(*lookup_.Find("tool", Env("bin"), tmp_.Sub("y"), kT0), "bin/tool");
  EXPECT_EQ(lookup_.Find("tool", Env("bin"), tmp_.Sub("x"), kT0).status().code(),
            absl::StatusCode::kNotFound);
  (void)in_y;
}

}  // namespace
}  // namespace hera::exec
