#include "core/json_codec.h"

#include <gtest/gtest.h>

namespace hera::core {
namespace {

using nlohmann::json;

TEST(JsonCodecTest, RoundTripsEveryEditableField) {
  Job job;
  const json body = json::parse(R"json({
    "name": "nightly 日报", "group_id": 3, "description": "d", "type": "python",
    "script": "print(1)", "enabled": true, "retry": {"count": 2, "interval_s": 30},
    "timeout_s": 600, "host_group": "spark", "configs": {"a": "1"}, "priority": "high",
    "allow_concurrent": false, "missed_policy": "skip", "owner": "alice",
    "schedule": {"cron": "0 0 3 * * ?", "timezone": "Asia/Shanghai", "self_dependency": true,
                 "depends_on": [{"job_id": 7, "period": "previous_day"}]}})json");
  ASSERT_TRUE(ApplyJobJson(body, &job).ok());
  Job back;
  ASSERT_TRUE(ApplyJobJson(JobDefinitionToJson(job), &back).ok());
  EXPECT_EQ(JobDefinitionToJson(back), JobDefinitionToJson(job));
  EXPECT_EQ(job.schedule.depends_on.at(0).period, DependencyPeriod::kPreviousDay);
  EXPECT_EQ(job.type, JobType::kPython);
  EXPECT_FALSE(job.allow_concurrent);
}

struct BadCase {
  const char* body;
  const char* message_part;
};

class JsonCodecBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(JsonCodecBadInputTest, NamesTheField) {
  Job job;
  const absl::Status st = ApplyJobJson(json::parse(GetParam().body), &job);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find(GetParam().message_part), absl::string_view::npos) << st;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonCodecBadInputTest,
    ::testing::Values(BadCase{R"({"nmae": "x"})", "field 'nmae': unknown field"},
                      BadCase{R"({"name": 5})", "field 'name': must be a string"},
                      BadCase{R"({"name": ""})", "field 'name': must not be empty"},
                      BadCase{R"({"type": "perl"})", "unknown job type 'perl'"},
                      BadCase{R"({"group_id": "1"})", "field 'group_id': must be an integer"},
                      BadCase{R"({"retry": {"count": 11}})", "retry.count': 11 is outside 0-10"},
                      BadCase{R"({"schedule": {"timezone": "Mars/Base"}})", "unknown time zone"},
                      BadCase{R"({"schedule": {"depends_on": [{"period": "nearest"}]}})",
                              "depends_on[0].job_id': is required"},
                      BadCase{R"({"configs": {"k": 1}})", "field 'configs.k': must be a string"},
                      BadCase{R"([1, 2])", "must be a JSON object"}));

TEST(JsonCodecTest, RejectsScriptOverOneMebibyte) {
  Job job;
  const absl::Status st = ApplyJobJson(json{{"script", std::string((1 << 20) + 1, 'x')}}, &job);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("limit is 1 MiB"), absl::string_view::npos);
}

}  // namespace
}  // namespace hera::core
