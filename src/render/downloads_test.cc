#include "render/downloads.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hera::render {
namespace {

using ::testing::HasSubstr;

TEST(DownloadsTest, ExtractsDirectivesAndKeepsLineNumbers) {
  const std::string script =
      "#!/bin/bash\n"
      "download[hdfs:///jars/udf.jar udf.jar]\n"
      "  download[hera://resources/42/report.sql]  \r\n"
      "download[https://example.com/a/b.csv?sig=x#frag]\n"
      "echo download[hdfs://x y] stays\n"
      "hive -f report.sql";
  const absl::StatusOr<ScriptDownloads> got = ExtractDownloads(script);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->script,
            "#!/bin/bash\n"
            "\n"
            "\r\n"
            "\n"
            "echo download[hdfs://x y] stays\n"
            "hive -f report.sql");
  const std::vector<Download> want = {
      {"hdfs:///jars/udf.jar", "udf.jar"},
      {"hera://resources/42/report.sql", "report.sql"},
      {"https://example.com/a/b.csv?sig=x#frag", "b.csv"},
  };
  EXPECT_EQ(got->downloads, want);
}

TEST(DownloadsTest, BadLinesNameTheLine) {
  struct Case {
    const char* script;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"echo\ndownload[hdfs:///x ../etc/passwd]",
       "line 2: download name \"../etc/passwd\" must be a plain file name"},
      {"download[hdfs:///x a/b]", "line 1: download name \"a/b\""},
      {"download[hdfs:///x ..]", "line 1: download name \"..\""},
      {"download[hdfs:///x a\x01]", "line 1: download name \"a\\x01\""},
      {"download[hdfs:///dir/]", "line 1: download URI \"hdfs:///dir/\" ends without a file name"},
      {"download[/tmp/x x]", "line 1: download URI \"/tmp/x\" has no scheme"},
      {"download[hdfs:///x a b]", "line 1: download[hdfs:///x a b] has 3 words"},
      {"download[]", "line 1: download[] names no URI"},
      {"download[hdfs:///[x] y]", "line 1: brackets inside download[hdfs:///[x] y]"},
      {"download[hdfs:///a x]\n\ndownload[hdfs:///b x]",
       "line 3: download name \"x\" is already used on line 1"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<ScriptDownloads> got = ExtractDownloads(c.script);
    ASSERT_FALSE(got.ok()) << c.script;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(c.error)) << c.script;
  }
}

TEST(DownloadsTest, ValidateDownloadName) {
  EXPECT_TRUE(ValidateDownloadName("udf-1.0.jar").ok());
  EXPECT_TRUE(ValidateDownloadName(".hidden").ok());
  for (const char* bad : {"", ".", "..", "a..b", "/abs", "a/b", "tab\there", "del\x7f"}) {
    EXPECT_FALSE(ValidateDownloadName(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace hera::render
