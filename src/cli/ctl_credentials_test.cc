#include "cli/ctl_credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace hera::cli {
namespace {

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hera_ctl_creds_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static mode_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string root_;
};

TEST_F(CredentialsTest, RoundTripWithPrivateModes) {
  const std::string dir = root_ + "/config/hera";  // parents are created too
  const mode_t old_umask = ::umask(0);             // modes must not depend on the umask
  const absl::Status st = SaveCredentials(dir, {"http://127.0.0.1:8080", "secret-token", "admin"});
  ::umask(old_umask);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(Mode(CredentialsPath(dir)), 0600u);
  EXPECT_EQ(Mode(dir), 0700u);

  auto loaded = LoadCredentials(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->server, "http://127.0.0.1:8080");
  EXPECT_EQ((*loaded)->token, "secret-token");
  EXPECT_EQ((*loaded)->username, "admin");
}

TEST_F(CredentialsTest, OverwriteKeepsModeAndReplacesContent) {
  ASSERT_TRUE(SaveCredentials(root_, {"http://a", "t1", "u1"}).ok());
  ::chmod(CredentialsPath(root_).c_str(), 0644);
  ASSERT_TRUE(SaveCredentials(root_, {"http://b", "t2", "u2"}).ok());
  EXPECT_EQ(Mode(CredentialsPath(root_)), 0600u);
  auto loaded = LoadCredentials(root_);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ((*loaded)->token, "t2");
  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(root_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(CredentialsTest, MissingFileIsNotAnError) {
  auto loaded = LoadCredentials(root_ + "/nope");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->has_value());
}

TEST_F(CredentialsTest, CorruptFileIsAnError) {
  std::ofstream(CredentialsPath(root_)) << "{not json";
  auto loaded = LoadCredentials(root_);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  std::ofstream(CredentialsPath(root_)) << R"({"server":"http://a"})";
  EXPECT_FALSE(LoadCredentials(root_).ok());
}

TEST_F(CredentialsTest, Remove) {
  ASSERT_TRUE(SaveCredentials(root_, {"http://a", "t", "u"}).ok());
  auto removed = RemoveCredentials(root_);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  removed = RemoveCredentials(root_);
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(*removed);
}

TEST_F(CredentialsTest, DefaultConfigDirFollowsXdgThenHome) {
  const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "";
  const std::string saved_home = old_home ? old_home : "";
  ::setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
  EXPECT_EQ(DefaultConfigDir(), "/x/cfg/hera");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(DefaultConfigDir(), "/home/u/.config/hera");
  if (old_xdg) ::setenv("XDG_CONFIG_HOME", saved_xdg.c_str(), 1);
  if (old_home) {
    ::setenv("HOME", saved_home.c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
}

}  // namespace
}  // namespace hera::cli
