#include "api/http_types.h"

#include <gtest/gtest.h>

namespace hera::api {
namespace {

TEST(ParseTargetTest, DecodesPathAndQuery) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/api/v1/jobs?q=daily%20etl&group_id=3&flag", &path, &query));
  EXPECT_EQ(path, "/api/v1/jobs");
  EXPECT_EQ(query["q"], "daily etl");
  EXPECT_EQ(query["group_id"], "3");
  EXPECT_EQ(query["flag"], "");
  ASSERT_TRUE(ParseTarget("/a+b?x=a+b", &path, &query));
  EXPECT_EQ(path, "/a+b");
  EXPECT_EQ(query["x"], "a b");
}

TEST(ParseTargetTest, RejectsBadEscapes) {
  std::string path;
  std::map<std::string, std::string> query;
  EXPECT_FALSE(ParseTarget("/x%2", &path, &query));
  EXPECT_FALSE(ParseTarget("/x?y=%zz", &path, &query));
}

}  // namespace
}  // namespace hera::api
