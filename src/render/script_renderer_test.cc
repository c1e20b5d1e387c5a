#include "render/script_renderer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "render/test_util.h"

namespace hera::render {
namespace {

using ::hera::render::testing::At;
using ::hera::render::testing::Zone;
using ::testing::HasSubstr;

const std::map<std::string, std::string>& Configs() {
  static const auto* configs = new std::map<std::string, std::string>{
      {"db", "dw_${env}"},
      {"env", "prod"},
      {"bizdate", "${zdt.addDay(-1).format(\"yyyy-MM-dd\")}"},
      {"partition", "dt=${bizdate}"},
      {"yday", "${yesterday}"},
  };
  return *configs;
}

absl::StatusOr<RenderedScript> RenderAt(const std::string& script, const std::string& time,
                                        const std::string& zone,
                                        const std::map<std::string, std::string>& configs) {
  return Render(script, RenderContext{configs, At(time, zone), Zone(zone)});
}

// Expected values follow Hera's HeraDateTool on a JVM in the job's zone (checked against
// OpenJDK 17's Calendar and SimpleDateFormat).
TEST(ScriptRendererTest, HeraIdioms) {
  struct Case {
    const char* script;
    const char* time;  // scheduled time, local to the zone unless it has an offset
    const char* zone;
    const char* want;
  };
  const std::vector<Case> cases = {
      // Yesterday, first day of the month, same day last month, epoch seconds.
      {"${zdt.addDay(-1).format(\"yyyyMMdd\")}", "2024-03-01T00:30:00", "Asia/Shanghai",
       "20240229"},
      {"${zdt.set(5,1).format(\"yyyyMMdd\")}", "2024-03-17T00:30:00", "Asia/Shanghai", "20240301"},
      {"${zdt.add(2,-1).format(\"yyyy-MM-dd\")}", "2024-03-17T00:30:00", "Asia/Shanghai",
       "2024-02-17"},
      {"${zdt.getTime()} ${zdt.time} ${zdt.getMillis()}", "2024-03-01T00:30:00", "Asia/Shanghai",
       "1709224200 1709224200 1709224200000"},
      {"${yesterday}", "2024-03-01T00:30:00", "Asia/Shanghai", "20240229"},
      {"${yesterday}", "2024-01-01T00:00:00", "Asia/Shanghai", "20231231"},
      // Month ends: the day is pinned, leap years included; lenient set rolls over.
      {"${zdt.add(2,-1).format(\"yyyy-MM-dd\")}", "2024-03-31T02:00:00", "Asia/Shanghai",
       "2024-02-29"},
      {"${zdt.add(2,-1).format(\"yyyy-MM-dd\")}", "2023-03-31T02:00:00", "Asia/Shanghai",
       "2023-02-28"},
      {"${zdt.set(5,31).format(\"yyyy-MM-dd\")}", "2023-02-10T02:00:00", "Asia/Shanghai",
       "2023-03-03"},
      {"${zdt.add(2,1).set(5,1).addDay(-1).format(\"yyyyMMdd\")}", "2024-02-10T02:00:00",
       "Asia/Shanghai", "20240229"},
      {"${zdt.add(1,1).format(\"yyyy-MM-dd\")}", "2024-02-29T02:00:00", "Asia/Shanghai",
       "2025-02-28"},
      {"${zdt.get(2)} ${zdt.get(5)} ${zdt.get(7)}", "2024-03-01T00:30:00", "Asia/Shanghai",
       "2 1 6"},
      // DST in New York: 2024-03-10 has 23 hours.
      {"${zdt.addDay(1).format(\"yyyy-MM-dd HH:mm z\")}", "2024-03-09T12:00:00", "America/New_York",
       "2024-03-10 12:00 EDT"},
      {"${zdt.add(11,24).format(\"yyyy-MM-dd HH:mm z\")}", "2024-03-09T12:00:00",
       "America/New_York", "2024-03-10 13:00 EDT"},
      {"${zdt.set(11,2).format(\"HH:mm z\")}", "2024-03-10T00:30:00", "America/New_York",
       "03:30 EDT"},
      {"${zdt.addDay(1).getTime()}-${zdt.getTime()}", "2024-03-10T00:00:00", "America/New_York",
       "1710129600-1710046800"},
      {"${yesterday}", "2024-03-11T00:30:00", "America/New_York", "20240310"},
      // Velocity string methods on a value; other text is untouched.
      {"${zdt.format(\"yyyyMMdd\").substring(0,6)}", "2024-03-01T00:30:00", "Asia/Shanghai",
       "202403"},
      {"echo ${HOME} $zdt ${zdtable} ${ zdt}", "2024-03-01T00:30:00", "Asia/Shanghai",
       "echo ${HOME} $zdt ${zdtable} ${ zdt}"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<RenderedScript> got = RenderAt(c.script, c.time, c.zone, Configs());
    ASSERT_TRUE(got.ok()) << c.script << ": " << got.status();
    EXPECT_EQ(got->text, c.want) << c.script << " at " << c.time << " " << c.zone;
    EXPECT_TRUE(got->downloads.empty());
  }
}

TEST(ScriptRendererTest, WholeScriptInHerasOrder) {
  const std::string script =
      "download[hdfs:///udf/${env}/udf.jar udf.jar]\n"
      "use ${db};\n"
      "insert overwrite table t partition(${partition})\n"
      "select * from s where ds = '${yday}' and ts < ${zdt.set(11,0).set(12,0).getTime()};\n";
  const absl::StatusOr<RenderedScript> got =
      RenderAt(script, "2024-03-01T00:30:00", "Asia/Shanghai", Configs());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->text,
            "\n"
            "use dw_prod;\n"
            "insert overwrite table t partition(dt=2024-02-29)\n"
            "select * from s where ds = '20240229' and ts < 1709222400;\n");
  // Downloads come out first, as Hera's did: their text is not rendered.
  EXPECT_EQ(got->downloads, (std::vector<Download>{{"hdfs:///udf/${env}/udf.jar", "udf.jar"}}));
}

TEST(ScriptRendererTest, ConfigNamedYesterdayWins) {
  // Configs are step 2, ${yesterday} step 4.
  const std::map<std::string, std::string> configs = {{"yesterday", "custom"}};
  EXPECT_EQ(RenderAt("${yesterday}", "2024-03-01T00:30:00", "UTC", configs)->text, "custom");
}

TEST(ScriptRendererTest, ErrorsNameTheOffendingText) {
  struct Case {
    const char* script;
    const char* error;
    absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  };
  const std::vector<Case> cases = {
      {"echo\necho ${zdt.addDays(-1).format(\"yyyyMMdd\")}",
       "line 2: ${zdt.addDays(-1).format(\"yyyyMMdd\")}: addDays(-1): unknown zdt method"},
      {"echo ${zdt.addDay(-1).format(\"yyyyMMdd\")\necho done",
       "line 1: unbalanced '${' (no closing '}' on its line) in "
       "${zdt.addDay(-1).format(\"yyyyMMdd\")"},
      {"${zdt.format(\"yyyyMMddq\")}",
       "line 1: ${zdt.format(\"yyyyMMddq\")}: format(\"yyyyMMddq\"): illegal pattern letter 'q' "
       "at column 9 of \"yyyyMMddq\""},
      {"${zdt.add(5)}", "${zdt.add(5)}: add(5): takes 2 arguments, not 1"},
      {"${zdt.addDay(\"1\")}", "addDay(\"1\"): argument 1 must be an integer"},
      {"${zdt.addDay(-1)}", "${zdt.addDay(-1)}: the chain ends in addDay(-1), which returns"},
      {"${zdt}", "${zdt}: ${zdt} alone prints nothing useful"},
      {"${zdt.getNowMillis()}", "getNowMillis(): reads the wall clock"},
      {"${zdt.add(1,9000).format(\"yyyy\")}",
       "add(1, 9000): year 11024 is outside the supported 1900-9999",
       absl::StatusCode::kOutOfRange},
      // A set resolves on the next read, as in Java, so that is where it fails.
      {"${zdt.set(1,1800).format(\"yyyy\")}",
       "${zdt.set(1,1800).format(\"yyyy\")}: format(\"yyyy\"): year 1800 is outside",
       absl::StatusCode::kOutOfRange},
      {"${zdt.format(\"yyyy\").substring(5)}", "substring(5): index out of range for \"2024\""},
      {"select ${a}", "config reference cycle: a -> b -> a"},
      {"download[hdfs:///x ../x]", "line 1: download name \"../x\""},
  };
  const std::map<std::string, std::string> configs = {{"a", "${b}"}, {"b", "${a}"}};
  for (const Case& c : cases) {
    const absl::StatusOr<RenderedScript> got =
        RenderAt(c.script, "2024-03-01T00:30:00", "Asia/Shanghai", configs);
    ASSERT_FALSE(got.ok()) << c.script;
    EXPECT_EQ(got.status().code(), c.code) << got.status();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.error)) << c.script;
  }
}

}  // namespace
}  // namespace hera::render
