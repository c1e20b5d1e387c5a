#include "master/definition_check.h"

#include <gtest/gtest.h>

#include "core/catalog.h"

namespace hera::master {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

class DefinitionCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::Group root;
    root.id = 1;
    root.name = "root";
    root.configs = {{"day", "${zdt.addDay(-1).format(\"yyyyMMdd\")}"}, {"a", "${b}"}};
    catalog_.PutGroup(root);
  }
  core::Job Job(std::string script) {
    core::Job j;
    j.id = 7;
    j.group_id = 1;
    j.name = "j";
    j.script = std::move(script);
    return j;
  }
  absl::Status Check(const core::Job& job) {
    return CheckJobRenders(job, catalog_, kNow, absl::UTCTimeZone(), nullptr, nullptr);
  }
  core::Catalog catalog_;
};

TEST_F(DefinitionCheckTest, AScriptThatRendersPasses) {
  EXPECT_TRUE(Check(Job("echo ${day} ${HOME}\ndownload[hdfs:///x/y.jar y.jar]\n")).ok());
}

TEST_F(DefinitionCheckTest, WhatWouldFailTheRunIsRefusedWithTheRunsError) {
  const absl::Status macro = Check(Job("echo ${zdt.addDays(-1).format(\"yyyy\")}\n"));
  EXPECT_EQ(macro.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(macro.message().find("the job would fail when it runs: could not render the script"),
            absl::string_view::npos)
      << macro;
  EXPECT_NE(macro.message().find("addDays"), absl::string_view::npos) << macro;

  const absl::Status download = Check(Job("download[hdfs:///x/y.jar\necho hi\n"));
  EXPECT_EQ(download.code(), absl::StatusCode::kInvalidArgument) << download;
  EXPECT_NE(download.message().find("line 1: download[hdfs:///x/y.jar has no closing ']'"),
            absl::string_view::npos)
      << download;

  core::Job cycle = Job("echo ${a}\n");
  cycle.configs = {{"b", "${c}"}, {"c", "${a}"}};
  const absl::Status st = Check(cycle);
  EXPECT_NE(st.message().find("config reference cycle"), absl::string_view::npos) << st;
}

TEST_F(DefinitionCheckTest, AGroupWhoseConfigsCycleOrHoldABadMacroIsRefusedNamingTheKey) {
  core::Group child;
  child.id = 2;
  child.parent_id = 1;
  child.name = "child";
  child.configs = {{"b", "${a}"}};
  const absl::Status cycle = CheckGroupConfigs(child, catalog_, kNow, absl::UTCTimeZone());
  EXPECT_EQ(cycle.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(cycle.message().find("field 'configs': config 'a': config reference cycle"),
            absl::string_view::npos)
      << cycle;
  child.configs = {{"b", "${zdt.addDayz(1)}"}};
  const absl::Status macro = CheckGroupConfigs(child, catalog_, kNow, absl::UTCTimeZone());
  EXPECT_NE(macro.message().find("addDayz(1): unknown zdt method"), absl::string_view::npos)
      << macro;
  child.configs = {{"b", "plain"}};
  EXPECT_TRUE(CheckGroupConfigs(child, catalog_, kNow, absl::UTCTimeZone()).ok());
}

}  // namespace
}  // namespace hera::master
