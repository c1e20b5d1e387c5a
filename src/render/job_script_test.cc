#include "render/job_script.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "render/secret_keys.h"
#include "render/test_util.h"

namespace hera::render {
namespace {

using ::hera::render::testing::At;
using ::hera::render::testing::Zone;
using ::testing::HasSubstr;

TEST(SecretKeysTest, EnvNames) {
  EXPECT_TRUE(IsSecretKey("secret.db_password"));
  EXPECT_FALSE(IsSecretKey("secrets.x"));
  EXPECT_FALSE(IsSecretKey("Secret.x"));
  EXPECT_EQ(SecretEnvName("secret.db_password"), "DB_PASSWORD");
  EXPECT_EQ(SecretEnvName("secret.api-key.v2"), "API_KEY_V2");
  EXPECT_TRUE(CheckSecretKey("secret.token").ok());
  EXPECT_THAT(CheckSecretKey("secret.").message(), HasSubstr("needs a name"));
  EXPECT_THAT(CheckSecretKey("secret.1x").message(), HasSubstr("starts with a digit"));
  EXPECT_THAT(CheckSecretKey("secret.hera_run_id").message(), HasSubstr("reserved"));
}

TEST(JobScriptTest, SecretsStayOutOfTheText) {
  const EffectiveConfigs configs = {
      {"db", {"dw", "job"}},
      {"secret.db_password", {"hunter2", "group:3"}},
  };
  auto got = RenderJobScript("echo ${db} ${secret.db_password} $DB_PASSWORD\n", configs,
                             At("2024-03-01T00:30:00", "UTC"), Zone("UTC"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->rendered.text, "echo dw ${secret.db_password} $DB_PASSWORD\n");
  EXPECT_EQ(
      got->secrets,
      (std::vector<std::pair<std::string, std::string>>{{"DB_PASSWORD", "secret.db_password"}}));
}

TEST(JobScriptTest, TwoSecretsUnderOneNameAreRefused) {
  const EffectiveConfigs configs = {{"secret.a-b", {"1", "job"}}, {"secret.a_b", {"2", "job"}}};
  auto got = RenderJobScript("true", configs, At("2024-03-01T00:30:00", "UTC"), Zone("UTC"));
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("both exported as $A_B"));
}

TEST(JobScriptTest, RenderErrorsSayWhatFailed) {
  auto got = RenderJobScript("echo ${zdt.addDays(-1).format(\"yyyy\")}", {},
                             At("2024-03-01T00:30:00", "UTC"), Zone("UTC"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("could not render the script: "));
  EXPECT_THAT(got.status().message(), HasSubstr("addDays"));
}

}  // namespace
}  // namespace hera::render
