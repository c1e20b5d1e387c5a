#include "cli/ctl_job_flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace hera::cli {
namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/hera_ctl_job_XXXXXX";
    const int fd = ::mkstemp(tmpl);
    path_ = tmpl;
    ::close(fd);
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Key order does not matter to the server; compare as unordered objects.
nlohmann::json U(const Json& j) { return nlohmann::json::parse(j.dump()); }

JobFlags MinimalCreate() {
  JobFlags f;
  f.name = "etl";
  f.group_id = 3;
  f.script = "echo hi";
  return f;
}

TEST(ConfigFlagTest, ParsesKeyValue) {
  auto kv = ParseConfigFlag("queue=default");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->first, "queue");
  EXPECT_EQ(kv->second, "default");
  // Only the first '=' splits; an empty value is allowed.
  kv = ParseConfigFlag("opts=a=b");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->second, "a=b");
  kv = ParseConfigFlag("empty=");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->second, "");
}

TEST(ConfigFlagTest, BadInput) {
  EXPECT_EQ(ParseConfigFlag("novalue").status().message(),
            "--config 'novalue': expected KEY=VALUE");
  EXPECT_EQ(ParseConfigFlag("=v").status().message(), "--config '=v': the key must not be empty");
  EXPECT_EQ(ParseConfigFlag("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseConfigFlags({"a=1", "a=2"}).status().message(),
            "--config key 'a' is given more than once");
  auto configs = ParseConfigFlags({"a=1", "b=2"});
  ASSERT_TRUE(configs.ok());
  EXPECT_EQ(*configs, (Json{{"a", "1"}, {"b", "2"}}));
}

TEST(BuildJobBodyTest, CreateFromFlags) {
  JobFlags f = MinimalCreate();
  f.description = "nightly";
  f.timeout_s = 600;
  f.retry_count = 2;
  f.retry_interval_s = 30;
  f.host_group = "etl";
  f.cron = "0 2 * * *";
  f.configs = {"queue=q1", "mem=4g"};
  auto body = BuildJobBody(f, JobBodyKind::kCreate);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(U(*body), nlohmann::json::parse(R"({
    "name":"etl","group_id":3,"script":"echo hi","description":"nightly","timeout_s":600,
    "host_group":"etl","retry":{"count":2,"interval_s":30},"schedule":{"cron":"0 2 * * *"},
    "configs":{"queue":"q1","mem":"4g"},"type":"shell"})"));
}

TEST(BuildJobBodyTest, CreateRequiresNameGroupAndScript) {
  JobFlags f = MinimalCreate();
  f.name.reset();
  EXPECT_EQ(BuildJobBody(f, JobBodyKind::kCreate).status().message(),
            "--name is required (or \"name\" in --file)");
  f = MinimalCreate();
  f.group_id.reset();
  EXPECT_FALSE(BuildJobBody(f, JobBodyKind::kCreate).ok());
  f = MinimalCreate();
  f.script.reset();
  EXPECT_EQ(BuildJobBody(f, JobBodyKind::kCreate).status().message(),
            "--script or --script-file is required (or \"script\" in --file)");
}

TEST(BuildJobBodyTest, ScriptFile) {
  TempFile script("#!/bin/sh\necho from file\n");
  JobFlags f = MinimalCreate();
  f.script.reset();
  f.script_file = script.path();
  auto body = BuildJobBody(f, JobBodyKind::kCreate);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ((*body)["script"], "#!/bin/sh\necho from file\n");
  f.script_file = "/nonexistent/script.sh";
  EXPECT_EQ(BuildJobBody(f, JobBodyKind::kCreate).status().code(), absl::StatusCode::kNotFound);
}

TEST(BuildJobBodyTest, FileWithFlagOverrides) {
  // What `job show --json` prints: read-only fields are dropped so it can be sent back.
  TempFile file(R"({"id":9,"version":4,"created_at":"x","updated_at":"y",
    "effective_timezone":{"name":"UTC"},"name":"from_file",
    "group_id":1,"type":"python","script":"import sys","retry":{"count":1,"interval_s":60},
    "configs":{"a":"1","b":"2"}})");
  JobFlags f;
  f.file = file.path();
  f.name = "from_flag";
  f.retry_count = 3;
  f.configs = {"b=override", "c=3"};
  auto body = BuildJobBody(f, JobBodyKind::kCreate);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(U(*body), nlohmann::json::parse(R"({"name":"from_flag","group_id":1,"type":"python",
    "script":"import sys","retry":{"count":3,"interval_s":60},
    "configs":{"a":"1","b":"override","c":"3"}})"));
}

TEST(BuildJobBodyTest, BadFile) {
  TempFile not_json("{oops");
  JobFlags f;
  f.file = not_json.path();
  EXPECT_EQ(BuildJobBody(f, JobBodyKind::kCreate).status().message(),
            "--file " + not_json.path() + ": not valid JSON");
  TempFile array("[1,2]");
  f.file = array.path();
  EXPECT_EQ(BuildJobBody(f, JobBodyKind::kCreate).status().code(),
            absl::StatusCode::kInvalidArgument);
  f.file = "/nonexistent/job.json";
  EXPECT_EQ(BuildJobBody(f, JobBodyKind::kCreate).status().code(), absl::StatusCode::kNotFound);
  TempFile bad_configs(R"({"configs":"x"})");
  f.file = bad_configs.path();
  f.configs = {"a=1"};
  EXPECT_FALSE(BuildJobBody(f, JobBodyKind::kUpdate).ok());
}

TEST(BuildJobBodyTest, UpdateSendsOnlyGivenFields) {
  JobFlags f;
  f.timeout_s = 0;
  f.enabled = false;
  f.priority = "high";
  auto body = BuildJobBody(f, JobBodyKind::kUpdate);
  ASSERT_TRUE(body.ok()) << body.status();
  // No type default and nothing else on update.
  EXPECT_EQ(U(*body),
            nlohmann::json::parse(R"({"timeout_s":0,"enabled":false,"priority":"high"})"));
}

TEST(BuildJobBodyTest, UpdateConfigsMergeIntoCurrent) {
  JobFlags f;
  f.configs = {"b=new"};
  auto body = BuildJobBody(f, JobBodyKind::kUpdate, Json{{"a", "1"}, {"b", "old"}});
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(U(*body), nlohmann::json::parse(R"({"configs":{"a":"1","b":"new"}})"));
}

TEST(BuildJobBodyTest, UpdateNeedsSomething) {
  EXPECT_EQ(BuildJobBody(JobFlags(), JobBodyKind::kUpdate).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BuildJobBodyTest, BadConfigFlagFailsTheBody) {
  JobFlags f = MinimalCreate();
  f.configs = {"ok=1", "broken"};
  EXPECT_EQ(BuildJobBody(f, JobBodyKind::kCreate).status().message(),
            "--config 'broken': expected KEY=VALUE");
}

}  // namespace
}  // namespace hera::cli
