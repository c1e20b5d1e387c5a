#include "core/definition_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/json_codec.h"
#include "core/model.h"

namespace hera::core {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct FieldCase {
  const char* name;
  json before;
  json after;
  std::vector<FieldChange> want;
};

TEST(DefinitionDiffTest, FieldsAsDottedPaths) {
  const std::vector<FieldCase> cases = {
      {"equal", {{"a", 1}}, {{"a", 1}}, {}},
      {"scalar", {{"script", "x"}}, {{"script", "y"}}, {{"script", "x", "y"}}},
      {"nested",
       {{"schedule", {{"cron", "0 0 3 * * ?"}, {"timezone", "UTC"}}}, {"retry", {{"count", 1}}}},
       {{"schedule", {{"cron", "0 0 4 * * ?"}, {"timezone", "UTC"}}}, {"retry", {{"count", 3}}}},
       {{"retry.count", 1, 3}, {"schedule.cron", "0 0 3 * * ?", "0 0 4 * * ?"}}},
      {"arrays compare whole",
       {{"schedule", {{"depends_on", json::array({{{"job_id", 1}}})}}}},
       {{"schedule", {{"depends_on", json::array({{{"job_id", 1}}, {{"job_id", 2}}})}}}},
       {{"schedule.depends_on", json::array({{{"job_id", 1}}}),
         json::array({{{"job_id", 1}}, {{"job_id", 2}}})}}},
      {"map keys added and removed",
       {{"configs", {{"a", "1"}, {"b", "2"}}}},
       {{"configs", {{"b", "3"}, {"c", "4"}}}},
       {{"configs.a", "1", nullptr}, {"configs.b", "2", "3"}, {"configs.c", nullptr, "4"}}},
      {"field absent on one side", {{"a", 1}}, {{"a", 1}, {"b", false}}, {{"b", nullptr, false}}},
      {"object absent on one side",
       {{"x", 1}},
       {{"x", 1}, {"retry", {{"count", 2}}}},
       {{"retry.count", nullptr, 2}}},
      {"empty object vs absent", {{"configs", json::object()}}, json::object(), {}},
      {"object replaced by a scalar",
       {{"retry", {{"count", 2}}}},
       {{"retry", 5}},
       {{"retry", {{"count", 2}}, 5}}},
      {"type change", {{"timeout_s", 0}}, {{"timeout_s", "0"}}, {{"timeout_s", 0, "0"}}},
      {"non-object side counts as empty", nullptr, {{"a", 1}}, {{"a", nullptr, 1}}},
  };
  for (const FieldCase& c : cases) {
    EXPECT_EQ(DiffDefinitions(c.before, c.after), c.want) << c.name;
  }
}

TEST(DefinitionDiffTest, JobDefinitionsDifferOnlyInWhatWasEdited) {
  Job a;
  a.id = 1;
  a.group_id = 2;
  a.name = "load";
  a.script = "echo 1\n";
  a.schedule.cron = "0 0 3 * * ?";
  Job b = a;
  b.retry.count = 2;
  b.schedule.cron = "0 0 5 * * ?";
  b.configs["queue"] = "etl";
  b.version = 7;  // not part of the definition
  const auto changes = DiffDefinitions(JobDefinitionToJson(a), JobDefinitionToJson(b));
  std::vector<std::string> fields;
  for (const auto& c : changes) fields.push_back(c.field);
  EXPECT_THAT(fields, ElementsAre("configs.queue", "retry.count", "schedule.cron"));
}

TEST(DefinitionDiffTest, SplitLines) {
  struct Case {
    std::string text;
    std::vector<std::string_view> want;
  };
  const std::vector<Case> cases = {
      {"", {}},
      {"\n", {""}},
      {"a", {"a"}},
      {"a\n", {"a"}},
      {"a\nb", {"a", "b"}},
      {"a\n\nb\n", {"a", "", "b"}},
      {"a\n\n", {"a", ""}},
  };
  for (const Case& c : cases) EXPECT_EQ(SplitLines(c.text), c.want) << "'" << c.text << "'";
}

// A diff as one string per line, "-x", "+y", " z", for compact expectations.
std::vector<std::string> Render(const LineDiff& d) {
  std::vector<std::string> out;
  for (const DiffLine& l : d.lines) out.push_back(std::string(1, l.op) + l.text);
  return out;
}

TEST(DefinitionDiffTest, LineDiffs) {
  struct Case {
    const char* name;
    std::string before, after;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"both empty", "", "", {}},
      {"equal", "a\nb\n", "a\nb\n", {" a", " b"}},
      {"from nothing", "", "a\nb\n", {"+a", "+b"}},
      {"to nothing", "a\nb\n", "", {"-a", "-b"}},
      {"one line changed", "a\nb\nc\n", "a\nB\nc\n", {" a", "-b", "+B", " c"}},
      {"insert at the top", "b\nc\n", "a\nb\nc\n", {"+a", " b", " c"}},
      {"delete at the end", "a\nb\nc\n", "a\nb\n", {" a", " b", "-c"}},
      {"removed lines come before added ones",
       "a\nx\ny\nb\n",
       "a\nX\nY\nb\n",
       {" a", "-x", "-y", "+X", "+Y", " b"}},
      {"a common line in the middle is kept",
       "1\n2\nk\n3\n",
       "4\nk\n5\n6\n",
       {"-1", "-2", "+4", " k", "-3", "+5", "+6"}},
      {"moved block: one side of it is kept",
       "a\nb\nc\nd\n",
       "c\nd\na\nb\n",
       {"-a", "-b", " c", " d", "+a", "+b"}},
      {"repeated lines", "x\nx\ny\n", "x\ny\nx\ny\n", {" x", "+y", " x", " y"}},
      {"a missing final newline is a change", "a\nb", "a\nb\n", {" a", "-b", "+b"}},
      {"blank lines", "a\n\nb\n", "a\nb\n", {" a", "-", " b"}},
  };
  for (const Case& c : cases) {
    const LineDiff d = DiffLines(c.before, c.after);
    EXPECT_EQ(Render(d), c.want) << c.name;
    EXPECT_TRUE(d.exact) << c.name;
  }
}

// Keeping the ' ' and '-' lines gives back `before`, the ' ' and '+' lines `after`.
void ExpectReconstructs(const std::string& before, const std::string& after, const LineDiff& d) {
  std::string b, a;
  for (const DiffLine& l : d.lines) {
    if (l.op != '+') b += l.text + "\n";
    if (l.op != '-') a += l.text + "\n";
  }
  EXPECT_EQ(b, before);
  EXPECT_EQ(a, after);
}

TEST(DefinitionDiffTest, LineDiffIsMinimalAndReconstructsBothSides) {
  std::string before, after;
  for (int i = 0; i < 300; ++i) {
    before += "line " + std::to_string(i) + "\n";
    if (i % 7 == 3) continue;                                     // 43 deleted
    if (i % 11 == 5) after += "new " + std::to_string(i) + "\n";  // 27 added
    after += "line " + std::to_string(i) + "\n";
  }
  const LineDiff d = DiffLines(before, after);
  ExpectReconstructs(before, after, d);
  int kept = 0;
  for (const DiffLine& l : d.lines) kept += l.op == ' ';
  EXPECT_EQ(kept, 300 - 43);
  EXPECT_TRUE(d.exact);
}

TEST(DefinitionDiffTest, LargeMiddleFallsBackToWholeReplaceButKeepsHeadAndTail) {
  std::string before = "head\n", after = "head\n";
  for (int i = 0; i < 20; ++i) {
    before += "old " + std::to_string(i) + "\n";
    after += "new " + std::to_string(i) + "\n";
  }
  before += "same\ntail\n";
  after += "same\ntail\n";
  const LineDiff d = DiffLines(before, after, /*max_aligned=*/10);
  EXPECT_FALSE(d.exact);
  ExpectReconstructs(before, after, d);
  ASSERT_EQ(d.lines.size(), 43u);
  EXPECT_EQ(d.lines.front(), (DiffLine{' ', "head"}));
  EXPECT_EQ(d.lines[1], (DiffLine{'-', "old 0"}));
  EXPECT_EQ(d.lines[21], (DiffLine{'+', "new 0"}));
  EXPECT_EQ(d.lines[41], (DiffLine{' ', "same"}));
  // Within the limit the same texts align exactly (only whole lines differ here).
  EXPECT_TRUE(DiffLines(before, after).exact);
}

TEST(DefinitionDiffTest, ChangesToJsonAddsScriptLines) {
  const json changes = ChangesToJson({{"retry.count", 1, 2}, {"script", "a\nb\n", "a\nc\n"}});
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0], (json{{"field", "retry.count"}, {"before", 1}, {"after", 2}}));
  EXPECT_EQ(changes[1]["field"], "script");
  EXPECT_EQ(changes[1]["before"], "a\nb\n");
  EXPECT_EQ(changes[1]["lines"], (json::array({{{"op", " "}, {"text", "a"}},
                                               {{"op", "-"}, {"text", "b"}},
                                               {{"op", "+"}, {"text", "c"}}})));
  EXPECT_FALSE(changes[1].contains("lines_exact"));
  // A script that did not exist before (the first revision) is all added lines.
  const json first = ChangesToJson({{"script", nullptr, "x\n"}});
  EXPECT_EQ(first[0]["lines"], (json::array({{{"op", "+"}, {"text", "x"}}})));
  EXPECT_THAT(ChangesToJson({}), IsEmpty());
}

}  // namespace
}  // namespace hera::core
