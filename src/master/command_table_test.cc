#include "master/command_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "master/run_command.h"

namespace hera::master {
namespace {

using ::testing::HasSubstr;
using Argv = std::vector<std::string>;

Argv Expand(const render::CommandTemplate& tmpl, const core::Configs& configs = {}) {
  auto argv = tmpl.Expand(configs, "f");
  EXPECT_TRUE(argv.ok()) << argv.status();
  return argv.ok() ? *argv : Argv{};
}

TEST(CommandTableTest, BuiltInTemplates) {
  const CommandTable table;
  const core::Configs java = {{"hera.java.jar", "a.jar"}};
  EXPECT_EQ(Expand(table.Pick(core::JobType::kShell, "")), (Argv{"bash", "f"}));
  EXPECT_EQ(Expand(table.Pick(core::JobType::kPython, "")), (Argv{"python3", "f"}));
  EXPECT_EQ(Expand(table.Pick(core::JobType::kHive, "")), (Argv{"hive", "-f", "f"}));
  EXPECT_EQ(Expand(table.Pick(core::JobType::kSparkSql, "")), (Argv{"spark-sql", "-f", "f"}));
  EXPECT_EQ(Expand(table.Pick(core::JobType::kJava, ""), java), (Argv{"java", "-jar", "a.jar"}));
  EXPECT_EQ(CommandTable::ScriptName(core::JobType::kShell), "script.sh");
  EXPECT_EQ(CommandTable::ScriptName(core::JobType::kPython), "script.py");
  EXPECT_EQ(CommandTable::ScriptName(core::JobType::kHive), "script.hql");
  EXPECT_EQ(CommandTable::ScriptName(core::JobType::kSparkSql), "script.sql");
  EXPECT_EQ(CommandTable::ScriptName(core::JobType::kJava), "script.txt");
}

TEST(CommandTableTest, FlagsReplaceGloballyOrForOneHostGroup) {
  auto table = CommandTable::FromFlags({"hive=/opt/hive/bin/hive -f {script}",
                                        "hive@etl=beeline -u jdbc:hive2://h:10000 -f {script}",
                                        "python@ml=/opt/conda/bin/python {script}"});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(Expand(table->Pick(core::JobType::kHive, "")), (Argv{"/opt/hive/bin/hive", "-f", "f"}));
  EXPECT_EQ(Expand(table->Pick(core::JobType::kHive, "default")),
            (Argv{"/opt/hive/bin/hive", "-f", "f"}));
  EXPECT_EQ(Expand(table->Pick(core::JobType::kHive, "etl")),
            (Argv{"beeline", "-u", "jdbc:hive2://h:10000", "-f", "f"}));
  EXPECT_EQ(Expand(table->Pick(core::JobType::kPython, "ml")),
            (Argv{"/opt/conda/bin/python", "f"}));
  EXPECT_EQ(Expand(table->Pick(core::JobType::kPython, "etl")), (Argv{"python3", "f"}));
}

TEST(CommandTableTest, BadFlagsAreErrorsNamingTheValue) {
  const struct {
    std::vector<std::string> specs;
    const char* error;
  } cases[] = {
      {{"shell"}, "--command 'shell': expected TYPE=TEMPLATE or TYPE@HOSTGROUP=TEMPLATE"},
      {{"perl=perl {script}"}, "--command 'perl=perl {script}': unknown job type 'perl'"},
      {{"shell@=sh {script}"}, "empty host group after '@'"},
      {{"shell=sh {scrip}"},
       "--command 'shell=sh {scrip}': command template 'sh {scrip}': "
       "unknown placeholder {scrip}"},
      {{"spark_sql=spark-sql '{spark_conf} -f {script}"}, "unbalanced single quote"},
      {{"shell="}, "no command"},
      {{"shell@gpu=sh {script}", "shell@gpu=bash {script}"}, "shell@gpu is given twice"},
  };
  for (const auto& c : cases) {
    auto table = CommandTable::FromFlags(c.specs);
    ASSERT_FALSE(table.ok()) << c.error;
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(table.status().message(), HasSubstr(c.error));
  }
}

TEST(RunCommandTest, UserNames) {
  for (const char* good : {"etl", "_svc", "hera-run_1", "a"}) {
    EXPECT_TRUE(ValidateUserName(good).ok()) << good;
  }
  for (const char* bad : {"", "Root", "1user", "-n", "a b", "a/b", "a;rm", "x$",
                          "abcdefghijklmnopqrstuvwxyz0123456"}) {
    EXPECT_FALSE(ValidateUserName(bad).ok()) << bad;
  }
}

TEST(RunCommandTest, NoVariablesNoPreserveEnv) {
  const CommandPolicy policy{CommandTable(), true};
  auto command = BuildRunCommand(policy, core::JobType::kPython, "", {{"hera.run_as", "etl"}}, {});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(command->argv, (Argv{"sudo", "-n", "-u", "etl", "--", "python3", "script.py"}));
  EXPECT_EQ(command->script_name, "script.py");
}

}  // namespace
}  // namespace hera::master
