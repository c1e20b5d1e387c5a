#include "render/command_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hera::render {
namespace {

using ::testing::HasSubstr;
using Argv = std::vector<std::string>;

TEST(CommandTemplateTest, ExpandsPlaceholdersFromConfigs) {
  const ConfigMap none;
  const ConfigMap spark = {{"hera.spark.conf", "--master yarn --conf spark.executor.memory=2g"}};
  const ConfigMap java = {{"hera.java.jar", "app.jar"},
                          {"hera.java.opts", "-Xmx1g -Dname=\"a b\""},
                          {"hera.java.args", "--day ${day} 'x y'"},
                          {"day", "20240301"}};
  const struct {
    const char* tmpl;
    const ConfigMap& configs;
    const char* script;
    Argv want;
  } cases[] = {
      // The built-in templates (master/command_table.cc).
      {"bash {script}", none, "script.sh", {"bash", "script.sh"}},
      {"python3 {script}", none, "script.py", {"python3", "script.py"}},
      {"{hive} -f {script}", none, "script.hql", {"hive", "-f", "script.hql"}},
      {"{hive} -f {script}",
       {{"hera.hive.bin", "/opt/hive/bin/hive"}},
       "script.hql",
       {"/opt/hive/bin/hive", "-f", "script.hql"}},
      {"spark-sql {spark_conf} -f {script}", none, "script.sql", {"spark-sql", "-f", "script.sql"}},
      {"spark-sql {spark_conf} -f {script}",
       spark,
       "script.sql",
       {"spark-sql", "--master", "yarn", "--conf", "spark.executor.memory=2g", "-f", "script.sql"}},
      {"java {java_opts} -jar {jar} {args}",
       java,
       "script.txt",
       {"java", "-Xmx1g", "-Dname=a b", "-jar", "app.jar", "--day", "20240301", "x y"}},
      {"java -jar {jar} {args}",
       {{"hera.java.jar", "a.jar"}},
       "script.txt",
       {"java", "-jar", "a.jar"}},
      // Quoted list placeholders stay one word; single quotes and backslashes keep braces.
      {"run \"{args}\" '{args}' \\{args} {}",
       java,
       "s",
       {"run", "--day 20240301 'x y'", "{args}", "{args}", "{}"}},
      {"sh -c \"exec {hive} < {script}\"", none, "s.hql", {"sh", "-c", "exec hive < s.hql"}},
      {"cat ./{script}.bak", none, "s.sh", {"cat", "./s.sh.bak"}},
      {"x '' \"\"", none, "s", {"x", "", ""}},
  };
  for (const auto& c : cases) {
    absl::StatusOr<CommandTemplate> parsed = CommandTemplate::Parse(c.tmpl);
    ASSERT_TRUE(parsed.ok()) << c.tmpl << ": " << parsed.status();
    EXPECT_EQ(parsed->text(), c.tmpl);
    absl::StatusOr<Argv> argv = parsed->Expand(c.configs, c.script);
    ASSERT_TRUE(argv.ok()) << c.tmpl << ": " << argv.status();
    EXPECT_EQ(*argv, c.want) << c.tmpl;
  }
}

TEST(CommandTemplateTest, BadTemplatesAreErrorsNamingWhatIsWrong) {
  const struct {
    const char* tmpl;
    const char* error;
  } cases[] = {
      {"spark-sql {sprak_conf} -f {script}",
       "command template 'spark-sql {sprak_conf} -f {script}': unknown placeholder {sprak_conf}; "
       "known: {script} {hive} {jar} {spark_conf} {java_opts} {args}"},
      {"bash {script", "placeholder {script is not closed"},
      {"bash \"{script}", "unbalanced double quote opened at column 6"},
      {"spark-sql '--x -f {script}", "unbalanced single quote opened at column 11"},
      {"java --opts={java_opts}", "{java_opts} stands for several words"},
      {"java {args}{args}", "{args} stands for several words"},
      {"", "no command"},
      {"   ", "no command"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<CommandTemplate> parsed = CommandTemplate::Parse(c.tmpl);
    ASSERT_FALSE(parsed.ok()) << c.tmpl;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.error)) << c.tmpl;
  }
}

TEST(CommandTemplateTest, BadConfigsAreErrorsNamingTheKey) {
  const struct {
    const char* tmpl;
    ConfigMap configs;
    const char* error;
  } cases[] = {
      {"java -jar {jar}", {}, "config hera.java.jar is not set"},
      {"java -jar {jar}", {{"hera.java.jar", ""}}, "config hera.java.jar is not set"},
      {"spark-sql {spark_conf} -f {script}",
       {{"hera.spark.conf", "--conf \"a=b"}},
       "config hera.spark.conf: unbalanced double quote opened at column 8"},
      {"java {java_opts}",
       {{"hera.java.opts", "${a}"}, {"a", "${b}"}, {"b", "${a}"}},
       "config hera.java.opts: config reference cycle"},
      {"{args}", {}, "leaves no program to run"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<CommandTemplate> parsed = CommandTemplate::Parse(c.tmpl);
    ASSERT_TRUE(parsed.ok()) << c.tmpl << ": " << parsed.status();
    absl::StatusOr<Argv> argv = parsed->Expand(c.configs, "script.txt");
    ASSERT_FALSE(argv.ok()) << c.tmpl;
    EXPECT_THAT(argv.status().message(), HasSubstr(c.error)) << c.tmpl;
  }
}

}  // namespace
}  // namespace hera::render
