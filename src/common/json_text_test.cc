#include "common/json_text.h"

#include <string>

#include <gtest/gtest.h>

namespace hera {
namespace {

std::string Nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']');
}

TEST(JsonTextTest, ParsesOrdinaryDocuments) {
  auto doc = ParseJsonText(R"({"name":"etl","configs":{"a":[1,{"b":null}]}})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ((*doc)["configs"]["a"][1]["b"], nullptr);
}

TEST(JsonTextTest, NestingAtTheLimitIsAccepted) {
  EXPECT_TRUE(ParseJsonText(Nested(64)).ok());
  EXPECT_TRUE(ParseJsonText(Nested(3), JsonLimits{3}).ok());
}

TEST(JsonTextTest, DeeperNestingIsRefusedWithoutCrashing) {
  auto deep = ParseJsonText(Nested(65));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(deep.status().message().find("deeper than 64 levels"), std::string::npos);
  // The document of the report: 200,000 arrays inside an object's value.
  const std::string attack = "{\"configs\":" + Nested(200000) + "}";
  EXPECT_FALSE(ParseJsonText(attack).ok());
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(ParseJsonText(objects + "1" + std::string(100000, '}')).ok());
}

TEST(JsonTextTest, RepeatedKeyIsRefusedAndNamed) {
  auto dup = ParseJsonText(R"({"a":1,"b":{"x":1,"x":2}})");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("'x' twice"), std::string::npos);
  // The same key in two different objects is fine.
  EXPECT_TRUE(ParseJsonText(R"({"a":{"x":1},"b":{"x":2},"x":3})").ok());
  EXPECT_TRUE(ParseJsonText(R"([{"x":1},{"x":1}])").ok());
}

TEST(JsonTextTest, SyntaxErrorsNameTheByte) {
  auto bad = ParseJsonText("{\"a\":");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("at byte"), std::string::npos);
  EXPECT_FALSE(ParseJsonText("").ok());
  // Found by definition_fuzz: a number that overflows a double threw out_of_range.
  auto huge = ParseJsonText("{\"a\":6666666666E66666666666666666666}");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace hera
