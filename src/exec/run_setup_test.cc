#include "exec/run_setup.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "exec/test_util.h"
#include "gtest/gtest.h"

namespace hera::exec {
namespace {

using ::hera::exec::testing::Command;
using ::hera::exec::testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(MergeEnvironmentTest, OverridesAndAppends) {
  std::vector<std::string> env = MergeEnvironment(
      {"A=1", "PATH=/bin", "B=x=y"}, {{"PATH", "/opt/bin"}, {"C", "3"}, {"C", "4"}, {"B", ""}});
  EXPECT_EQ(env, (std::vector<std::string>{"A=1", "PATH=/opt/bin", "B=", "C=4"}));
}

TEST(MergeEnvironmentTest, AnOverriddenKeyAppearsOnceEvenIfTheBaseRepeatsIt) {
  std::vector<std::string> env = MergeEnvironment({"HOME=/a", "X=1", "HOME=/b", "NOVALUE"},
                                                  {{"HOME", "/c"}, {"NOVALUE", "v"}});
  EXPECT_EQ(env, (std::vector<std::string>{"HOME=/c", "X=1", "NOVALUE=v"}));
  EXPECT_EQ(MergeEnvironment({"A=1", "A=2"}, {}), (std::vector<std::string>{"A=1", "A=2"}));
}

TEST(ValidateRunSpecTest, RejectsBadFields) {
  RunSpec good = Command(1, {"true"}, "/tmp/x");
  EXPECT_TRUE(ValidateRunSpec(good).ok());
  RunSpec spec = good;
  spec.argv.clear();
  EXPECT_EQ(ValidateRunSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec = good;
  spec.work_dir.clear();
  EXPECT_EQ(ValidateRunSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  for (const char* name : {"../x.sh", "a/b.sh", "..", "output.log"}) {
    spec = good;
    spec.script_name = name;
    EXPECT_EQ(ValidateRunSpec(spec).code(), absl::StatusCode::kInvalidArgument) << name;
  }
  spec = good;
  spec.env = {{"A=B", "1"}};
  EXPECT_EQ(ValidateRunSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec = good;
  spec.script = "echo orphan";
  EXPECT_EQ(ValidateRunSpec(spec).code(), absl::StatusCode::kInvalidArgument);
  spec = good;
  spec.timeout = absl::Seconds(-1);
  EXPECT_EQ(ValidateRunSpec(spec).code(), absl::StatusCode::kInvalidArgument);
}

TEST(PrepareWorkDirTest, CreatesDirWritesScriptLogOnDemand) {
  TempDir tmp;
  RunSpec spec = Command(1, {"bash", "s.sh"}, tmp.Sub("a/b/c"));
  spec.script = "echo hi\n";
  spec.script_name = "s.sh";
  // An old script with a looser mode is replaced, and its mode tightened.
  std::filesystem::create_directories(spec.work_dir);
  { std::ofstream(spec.work_dir + "/s.sh") << "old old old old\n"; }
  ::chmod((spec.work_dir + "/s.sh").c_str(), 0755);

  absl::Status prepared = PrepareWorkDir(spec);
  ASSERT_TRUE(prepared.ok()) << prepared;
  EXPECT_EQ(ReadAll(spec.work_dir + "/s.sh"), "echo hi\n");
  struct stat st;
  ASSERT_EQ(::stat((spec.work_dir + "/s.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(spec.work_dir + "/output.log"));
  absl::StatusOr<UniqueFd> log = OpenRunLog(spec.work_dir);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(::write(log->get(), "x", 1), 1);
  EXPECT_EQ(ReadAll(spec.work_dir + "/output.log"), "x");
}

TEST(PrepareWorkDirTest, ReportsUncreatableDir) {
  TempDir tmp;
  { std::ofstream(tmp.Sub("file")) << "x"; }
  RunSpec spec = Command(1, {"true"}, tmp.Sub("file/sub"));
  absl::Status prepared = PrepareWorkDir(spec);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.message().find("create work dir"), std::string::npos) << prepared;
}

TEST(PrepareWorkDirTest, RunAsAnUnknownUserIsAnErrorNamingIt) {
  TempDir tmp;
  RunSpec spec = Command(1, {"true"}, tmp.Sub("w"));
  spec.run_as = "hera-no-such-user";
  absl::Status prepared = PrepareWorkDir(spec);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.message().find("cannot run as 'hera-no-such-user': no such user"),
            std::string::npos)
      << prepared;
}

// What is in the work dir of a run as another user is that user's, and the user's group may
// work in it; the directory and its output.log stay the worker's, and the sticky bit keeps
// the log where it is.
TEST(PrepareWorkDirTest, RunAsGivesTheWorkDirToTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "giving files to another user needs root";
  TempDir tmp;
  RunSpec spec = Command(1, {"true"}, tmp.Sub("w"));
  spec.script = "id -un\n";
  spec.script_name = "s.sh";
  spec.run_as = "nobody";
  std::filesystem::create_directories(spec.work_dir + "/lib");
  { std::ofstream(spec.work_dir + "/lib/udf.jar") << "jar"; }
  absl::Status prepared = PrepareWorkDir(spec);
  ASSERT_TRUE(prepared.ok()) << prepared;
  struct passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  struct stat st;
  ASSERT_EQ(::stat(spec.work_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, nobody->pw_gid);
  EXPECT_EQ(st.st_mode & 07777, static_cast<mode_t>(01770));
  ASSERT_EQ(::stat((spec.work_dir + "/output.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const char* path : {"/s.sh", "/lib", "/lib/udf.jar"}) {
    ASSERT_EQ(::stat((spec.work_dir + path).c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_uid, nobody->pw_uid) << path;
  }
}

}  // namespace
}  // namespace hera::exec
