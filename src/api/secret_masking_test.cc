#include "api/secret_masking.h"

#include <gtest/gtest.h>

#include "core/json_codec.h"

namespace hera::api {
namespace {

using nlohmann::json;

TEST(SecretMaskingTest, JobsGroupsAndRevisionsShowTheMask) {
  core::Job job;
  job.configs = {{"db", "dw"}, {"secret.pw", "enc:v1:abc"}};
  const json j = MaskedJobJson(job, absl::UTCTimeZone());
  EXPECT_EQ(j["configs"], (json{{"db", "dw"}, {"secret.pw", "******"}}));

  core::Group group;
  group.configs = {{"secret.token", "enc:v1:xyz"}};
  EXPECT_EQ(MaskedGroupJson(group, absl::UTCTimeZone())["configs"]["secret.token"], "******");

  core::JobRevision rev;
  rev.definition_json = core::JobDefinitionToJson(job).dump();
  const json r = MaskedRevisionJson(rev, absl::UTCTimeZone());
  EXPECT_EQ(r["definition"]["configs"]["secret.pw"], "******");
  EXPECT_EQ(r.dump().find("enc:v1"), std::string::npos);
}

TEST(SecretMaskingTest, ADiffStillListsAChangedSecret) {
  const json before = {{"configs", {{"secret.pw", "enc:v1:old"}}}};
  const json after = {{"configs", {{"secret.pw", "enc:v1:new"}, {"secret.added", "enc:v1:n"}}}};
  std::vector<core::FieldChange> changes = core::DiffDefinitions(before, after);
  MaskChangeSecrets(&changes);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].field, "configs.secret.added");
  EXPECT_EQ(changes[0].before, nullptr) << "absent stays absent";
  EXPECT_EQ(changes[0].after, "******");
  EXPECT_EQ(changes[1].field, "configs.secret.pw");
  EXPECT_EQ(changes[1].before, "******");
  EXPECT_EQ(changes[1].after, "******");
}

}  // namespace
}  // namespace hera::api
