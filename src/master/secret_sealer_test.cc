#include "master/secret_sealer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hera::master {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class SecretSealerTest : public ::testing::Test {
 protected:
  SecretBox box_ = *SecretBox::FromKey(std::string(32, 'k'));
};

TEST_F(SecretSealerTest, SealsOnlySecrets) {
  const json body = {{"name", "j"}, {"configs", {{"db", "dw"}, {"secret.pw", "hunter2"}}}};
  auto sealed = SealSecretConfigs(body, nullptr, &box_);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ((*sealed)["configs"]["db"], "dw");
  const std::string stored = (*sealed)["configs"]["secret.pw"];
  EXPECT_TRUE(SecretBox::LooksSealed(stored));
  EXPECT_EQ(*box_.Open(stored), "hunter2");
  EXPECT_EQ((*sealed)["name"], "j");
  // Bodies without configs (or without secrets) pass through.
  EXPECT_EQ(*SealSecretConfigs(json{{"name", "j"}}, nullptr, &box_), (json{{"name", "j"}}));
}

TEST_F(SecretSealerTest, TheMaskKeepsTheSavedValue) {
  const core::Configs saved = {{"secret.pw", box_.Seal("hunter2")}};
  const json body = {{"configs", {{"secret.pw", "******"}}}};
  auto sealed = SealSecretConfigs(body, &saved, &box_);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ((*sealed)["configs"]["secret.pw"], saved.at("secret.pw"));

  auto none = SealSecretConfigs(json{{"configs", {{"secret.new", "******"}}}}, &saved, &box_);
  ASSERT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("configs.secret.new"));
}

TEST_F(SecretSealerTest, SamePlaintextKeepsTheStoredFormAndRestoresAreChecked) {
  const core::Configs saved = {{"secret.pw", box_.Seal("hunter2")}};
  auto same = SealSecretConfigs(json{{"configs", {{"secret.pw", "hunter2"}}}}, &saved, &box_);
  EXPECT_EQ((*same)["configs"]["secret.pw"], saved.at("secret.pw"));
  auto changed = SealSecretConfigs(json{{"configs", {{"secret.pw", "other"}}}}, &saved, &box_);
  EXPECT_EQ(*box_.Open((*changed)["configs"]["secret.pw"].get<std::string>()), "other");

  // A stored form (a revision restore) is kept when it decrypts, refused otherwise.
  const std::string old = box_.Seal("old");
  auto restored = SealSecretConfigs(json{{"configs", {{"secret.pw", old}}}}, &saved, &box_);
  EXPECT_EQ((*restored)["configs"]["secret.pw"], old);
  const SecretBox other = *SecretBox::FromKey(std::string(32, 'o'));
  auto foreign =
      SealSecretConfigs(json{{"configs", {{"secret.pw", other.Seal("x")}}}}, &saved, &box_);
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SecretSealerTest, BadKeysAndNoKey) {
  EXPECT_EQ(
      SealSecretConfigs(json{{"configs", {{"secret.", "x"}}}}, nullptr, &box_).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SealSecretConfigs(json{{"configs", {{"secret.hera_x", "x"}}}}, nullptr, &box_)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      SealSecretConfigs(json{{"configs", {{"secret.pw", "x"}}}}, nullptr, nullptr).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace hera::master
