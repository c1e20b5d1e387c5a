#include "master/secret_box.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hera::master {
namespace {

using ::testing::HasSubstr;

class SecretBoxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hera_secret_box_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "secret.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SecretBoxTest, RoundTripWithAFreshNonceEachTime) {
  auto box = SecretBox::LoadOrCreate(path_);
  ASSERT_TRUE(box.ok()) << box.status();
  const std::string a = box->Seal("hunter2");
  const std::string b = box->Seal("hunter2");
  EXPECT_TRUE(SecretBox::LooksSealed(a));
  EXPECT_EQ(a.find("hunter2"), std::string::npos);
  EXPECT_NE(a, b) << "equal secrets must not look equal at rest";
  EXPECT_EQ(*box->Open(a), "hunter2");
  EXPECT_EQ(*box->Open(b), "hunter2");
  EXPECT_EQ(*box->Open(box->Seal("")), "");
}

TEST_F(SecretBoxTest, KeyFileIsCreatedOwnerOnlyAndReused) {
  auto first = SecretBox::LoadOrCreate(path_);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  const std::string sealed = first->Seal("v");
  auto again = SecretBox::LoadOrCreate(path_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again->Open(sealed), "v") << "a restart must read the same key";
}

TEST_F(SecretBoxTest, RefusesALooseModeOrAWrongSize) {
  ASSERT_TRUE(SecretBox::LoadOrCreate(path_).ok());
  ::chmod(path_.c_str(), 0644);
  auto loose = SecretBox::LoadOrCreate(path_);
  ASSERT_EQ(loose.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(loose.status().message(), HasSubstr("mode 0644"));
  EXPECT_THAT(loose.status().message(), HasSubstr("chmod 600"));

  std::filesystem::remove(path_);
  { std::ofstream(path_) << "short"; }
  ::chmod(path_.c_str(), 0600);
  auto short_key = SecretBox::LoadOrCreate(path_);
  ASSERT_EQ(short_key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(short_key.status().message(), HasSubstr("is 5 bytes, not 32"));
}

TEST_F(SecretBoxTest, TamperedOrForeignCiphertextFails) {
  auto box = SecretBox::FromKey(std::string(32, 'k'));
  auto other = SecretBox::FromKey(std::string(32, 'o'));
  ASSERT_TRUE(box.ok() && other.ok());
  std::string sealed = box->Seal("hunter2");

  EXPECT_EQ(other->Open(sealed).status().code(), absl::StatusCode::kDataLoss) << "wrong key";

  std::string tampered = sealed;
  char& c = tampered[tampered.size() - 3];  // inside the ciphertext's base64
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(box->Open(tampered).status().code(), absl::StatusCode::kDataLoss);

  EXPECT_EQ(box->Open("enc:v1:!!!").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(box->Open("enc:v1:AAAA").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(box->Open("hunter2").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SecretBox::FromKey("short").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hera::master
