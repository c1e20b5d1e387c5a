#include "master/run_preparer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "render/test_util.h"

namespace hera::master {
namespace {

using ::hera::render::testing::At;
using ::hera::render::testing::Zone;
using ::testing::HasSubstr;
using ::testing::Not;
using Pairs = std::vector<std::pair<std::string, std::string>>;

constexpr core::JobId kJob = 10;

// root (1) <- team (2) <- job 10; the job sets `queue` itself.
class RunPreparerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::Group root;
    root.id = 1;
    root.name = "root";
    root.configs = {{"env", "prod"},
                    {"queue", "default"},
                    {"db", "dw_${env}"},
                    {"secret.db_password", box_.Seal("hunter2")}};
    core::Group team;
    team.id = 2;
    team.parent_id = 1;
    team.name = "team";
    team.configs = {{"queue", "team"}, {"bizdate", "${zdt.addDay(-1).format(\"yyyy-MM-dd\")}"}};
    core::Job job;
    job.id = kJob;
    job.group_id = 2;
    job.name = "load";
    catalog_.Load({root, team}, {job});
  }

  // An order as core makes it: the job's own configs, the raw script.
  core::DispatchOrder Order(const std::string& script, const std::string& time,
                            const std::string& zone) {
    core::DispatchOrder o;
    o.run_id = 7;
    o.job_id = kJob;
    o.script = script;
    o.scheduled_time = At(time, zone.empty() ? "UTC" : zone);
    o.timezone = zone;
    o.configs = {{"queue", "etl"}};
    o.env = {{"HERA_RUN_ID", "7"}};
    return o;
  }

  SecretBox box_ = *SecretBox::FromKey(std::string(32, 'k'));
  core::Catalog catalog_;
};

// Hera's documented idioms, a config holding a macro, and a group config the job overrides,
// each through the whole path (merge, render, zone).
TEST_F(RunPreparerTest, HeraIdiomsThroughTheWholePath) {
  const struct {
    const char* script;
    const char* time;  // local to `zone` (UTC when empty)
    const char* zone;  // the job's zone; empty: the server's (UTC here)
    const char* want;
  } cases[] = {
      {"${zdt.addDay(-1).format(\"yyyyMMdd\")}", "2024-03-01T00:30:00", "Asia/Shanghai",
       "20240229"},
      {"${zdt.set(5,1).format(\"yyyyMMdd\")}", "2024-03-17T00:30:00", "Asia/Shanghai", "20240301"},
      {"${zdt.add(2,-1).format(\"yyyy-MM-dd\")}", "2024-03-17T00:30:00", "Asia/Shanghai",
       "2024-02-17"},
      {"${zdt.getTime()}", "2024-03-01T00:30:00", "Asia/Shanghai", "1709224200"},
      {"${yesterday}", "2024-03-01T00:30:00", "Asia/Shanghai", "20240229"},
      // A group config holding a macro, used through ${key}.
      {"dt=${bizdate}", "2024-03-01T00:30:00", "Asia/Shanghai", "dt=2024-02-29"},
      // The job's own value beats its group's; the root's reaches down; recursion.
      {"${queue} ${env} ${db}", "2024-03-01T00:30:00", "Asia/Shanghai", "etl prod dw_prod"},
      // No zone on the job: the server's.
      {"${zdt.format(\"yyyyMMdd HH\")}", "2024-02-29T16:30:00", "", "20240229 16"},
      // Unknown keys and shell variables stay as written.
      {"${nope} $HOME ${HOME}", "2024-03-01T00:30:00", "UTC", "${nope} $HOME ${HOME}"},
  };
  for (const auto& c : cases) {
    core::DispatchOrder order = Order(c.script, c.time, c.zone);
    auto secrets = PrepareRun(catalog_, &box_, Zone("UTC"), nullptr, &order);
    ASSERT_TRUE(secrets.ok()) << c.script << ": " << secrets.status();
    EXPECT_EQ(order.script, c.want) << c.script;
  }
}

TEST_F(RunPreparerTest, SecretsGoToTheEnvironmentOnly) {
  core::DispatchOrder order =
      Order("download[hdfs:///jars/udf.jar]\necho ${secret.db_password} $DB_PASSWORD\n",
            "2024-03-01T00:30:00", "UTC");
  auto secrets = PrepareRun(catalog_, &box_, Zone("UTC"), nullptr, &order);
  ASSERT_TRUE(secrets.ok()) << secrets.status();
  EXPECT_EQ(*secrets, std::vector<std::string>{"hunter2"});
  EXPECT_EQ(order.script, "\necho ${secret.db_password} $DB_PASSWORD\n");
  EXPECT_EQ(order.downloads, (Pairs{{"hdfs:///jars/udf.jar", "udf.jar"}}));
  EXPECT_EQ(order.env, (Pairs{{"HERA_RUN_ID", "7"}, {"DB_PASSWORD", "hunter2"}}));
  // What is left in configs is effective and secret-free (job types read keys from it).
  EXPECT_EQ(order.configs.at("queue"), "etl");
  EXPECT_EQ(order.configs.at("env"), "prod");
  EXPECT_EQ(order.configs.count("secret.db_password"), 0u);
}

TEST_F(RunPreparerTest, ARenderErrorQuotesTheMacroAndChangesNothing) {
  for (const char* script : {"echo ${zdt.addDays(-1).format(\"yyyyMMdd\")}\n",
                             "echo ${zdt.addDay(-1).format(\"yyyyMMdd\")\n"}) {
    core::DispatchOrder order = Order(script, "2024-03-01T00:30:00", "UTC");
    const core::DispatchOrder before = order;
    auto secrets = PrepareRun(catalog_, &box_, Zone("UTC"), nullptr, &order);
    ASSERT_FALSE(secrets.ok()) << script;
    EXPECT_THAT(secrets.status().message(), HasSubstr("could not render the script: "));
    EXPECT_THAT(secrets.status().message(), HasSubstr("${zdt.addDay"));
    EXPECT_EQ(order.script, before.script);
    EXPECT_EQ(order.env, before.env);
  }
}

TEST_F(RunPreparerTest, ASecretThatDoesNotDecryptNamesItsKeyNotItsValue) {
  const SecretBox other = *SecretBox::FromKey(std::string(32, 'o'));
  core::DispatchOrder order = Order("true", "2024-03-01T00:30:00", "UTC");
  order.configs["secret.token"] = other.Seal("s3cr3t");
  auto secrets = PrepareRun(catalog_, &box_, Zone("UTC"), nullptr, &order);
  ASSERT_FALSE(secrets.ok());
  EXPECT_THAT(secrets.status().message(), HasSubstr("secret.token"));
  EXPECT_THAT(secrets.status().message(), Not(HasSubstr("s3cr3t")));
}

// One template everywhere, another for host group `gpu`; the team group sets Spark's conf.
TEST_F(RunPreparerTest, PicksTheHostGroupsTemplateElseTheGlobalOne) {
  auto table = CommandTable::FromFlags(
      {"spark_sql=spark-sql {spark_conf} -f {script}",
       "spark_sql@gpu=/opt/spark3/bin/spark-sql --queue gpu {spark_conf} -f {script}",
       "shell@gpu=/bin/sh {script}"});
  ASSERT_TRUE(table.ok()) << table.status();
  const CommandPolicy policy{*table, false};
  const struct {
    core::JobType type;
    const char* host_group;
    std::vector<std::string> argv;
    const char* script_name;
  } cases[] = {
      {core::JobType::kSparkSql, "", {"spark-sql", "--master", "yarn", "-f", "script.sql"},
       "script.sql"},
      {core::JobType::kSparkSql, "default",
       {"spark-sql", "--master", "yarn", "-f", "script.sql"}, "script.sql"},
      {core::JobType::kSparkSql, "gpu",
       {"/opt/spark3/bin/spark-sql", "--queue", "gpu", "--master", "yarn", "-f", "script.sql"},
       "script.sql"},
      {core::JobType::kShell, "gpu", {"/bin/sh", "script.sh"}, "script.sh"},
      {core::JobType::kShell, "etl", {"bash", "script.sh"}, "script.sh"},  // the built-in
      {core::JobType::kPython, "gpu", {"python3", "script.py"}, "script.py"},
      {core::JobType::kHive, "gpu", {"hive", "-f", "script.hql"}, "script.hql"},
  };
  for (const auto& c : cases) {
    core::DispatchOrder order = Order("select 1", "2024-03-01T00:30:00", "UTC");
    order.type = c.type;
    order.host_group = c.host_group;
    order.configs["hera.spark.conf"] = "--master ${cluster}";
    order.configs["cluster"] = "yarn";
    auto secrets = PrepareRun(catalog_, &box_, Zone("UTC"), &policy, &order);
    ASSERT_TRUE(secrets.ok()) << secrets.status();
    EXPECT_EQ(order.argv, c.argv) << core::Name(c.type) << "@" << c.host_group;
    EXPECT_EQ(order.script_name, c.script_name);
  }
}

TEST_F(RunPreparerTest, WithoutAPolicyTheWorkerChoosesTheCommand) {
  core::DispatchOrder order = Order("true", "2024-03-01T00:30:00", "UTC");
  ASSERT_TRUE(PrepareRun(catalog_, &box_, Zone("UTC"), nullptr, &order).ok());
  EXPECT_TRUE(order.argv.empty());
  EXPECT_TRUE(order.script_name.empty());
}

TEST_F(RunPreparerTest, RunAsKeepsTheRunsVariablesThroughSudo) {
  const CommandPolicy policy{CommandTable(), /*allow_run_as=*/true};
  core::DispatchOrder order = Order("id -un", "2024-03-01T00:30:00", "UTC");
  order.configs["hera.run_as"] = "etl_user";
  auto secrets = PrepareRun(catalog_, &box_, Zone("UTC"), &policy, &order);
  ASSERT_TRUE(secrets.ok()) << secrets.status();
  EXPECT_EQ(order.argv, (std::vector<std::string>{"sudo", "-n", "-u", "etl_user",
                                                  "--preserve-env=HERA_RUN_ID,DB_PASSWORD", "--",
                                                  "bash", "script.sh"}));
}

// A bad command fails the run like a render error: nothing in the order changes.
TEST_F(RunPreparerTest, ABadCommandSaysWhyAndChangesNothing) {
  const struct {
    core::JobType type;
    const char* config;
    const char* value;
    bool allow_run_as;
    const char* error;
  } cases[] = {
      {core::JobType::kJava, "", "", false,
       "could not build the command: java template 'java {java_opts} -jar {jar} {args}': "
       "config hera.java.jar is not set"},
      {core::JobType::kSparkSql, "hera.spark.conf", "--conf 'x", false,
       "config hera.spark.conf: unbalanced single quote"},
      {core::JobType::kShell, "hera.run_as", "etl", false, "run-as is disabled on this master"},
      {core::JobType::kShell, "hera.run_as", "Root; rm", true,
       "hera.run_as: 'Root; rm' is not a Linux user name"},
  };
  for (const auto& c : cases) {
    const CommandPolicy policy{CommandTable(), c.allow_run_as};
    core::DispatchOrder order = Order("true", "2024-03-01T00:30:00", "UTC");
    order.type = c.type;
    if (*c.config) order.configs[c.config] = c.value;
    const core::DispatchOrder before = order;
    auto secrets = PrepareRun(catalog_, &box_, Zone("UTC"), &policy, &order);
    ASSERT_FALSE(secrets.ok()) << c.error;
    EXPECT_THAT(secrets.status().message(), HasSubstr(c.error));
    EXPECT_EQ(order.script, before.script);
    EXPECT_EQ(order.env, before.env);
    EXPECT_EQ(order.configs, before.configs);
    EXPECT_TRUE(order.argv.empty());
  }
}

}  // namespace
}  // namespace hera::master
