#include "render/zdt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "render/test_util.h"

namespace hera::render {
namespace {

using ::hera::render::testing::At;
using ::hera::render::testing::Zone;
using ::testing::HasSubstr;

Zdt ShanghaiAt(const std::string& time) {
  return Zdt(At(time, "Asia/Shanghai"), Zone("Asia/Shanghai"));
}

TEST(ZdtTest, HeraIdiomsChainLikeJava) {
  EXPECT_EQ(*ShanghaiAt("2024-03-01T00:00:00").AddDay(-1).Format("yyyyMMdd"), "20240229");
  EXPECT_EQ(*ShanghaiAt("2024-03-15T09:00:00").Set(5, 1).Format("yyyyMMdd"), "20240301");
  EXPECT_EQ(*ShanghaiAt("2024-03-31T09:00:00").Add(2, -1).Format("yyyy-MM-dd"), "2024-02-29");
  EXPECT_EQ(*ShanghaiAt("2024-03-15T09:00:00").Add(2, 1).Set(5, 1).AddDay(-1).Format("dd"), "31");
  EXPECT_EQ(*ShanghaiAt("2024-03-01T00:00:00").GetTime(), 1709222400);
  EXPECT_EQ(*ShanghaiAt("2024-03-01T00:00:00.123").GetMillis(), 1709222400123);
  EXPECT_EQ(*ShanghaiAt("2024-03-01T00:00:00").Get(2), 2);  // MONTH counts from 0
  EXPECT_EQ(ShanghaiAt("2024-03-01T00:00:00").AddDay(-40).GetToday(), "2024-03-01");
}

TEST(ZdtTest, GetTimeTruncatesTowardZeroBefore1970) {
  // Java's long division: -1500 ms is -1 s, not -2.
  Zdt zdt(absl::FromUnixMillis(-1500), Zone("UTC"));
  EXPECT_EQ(*zdt.GetTime(), -1);
  EXPECT_EQ(*zdt.GetMillis(), -1500);
}

TEST(ZdtTest, FirstErrorSticks) {
  Zdt zdt = ShanghaiAt("2024-03-01T00:00:00");
  zdt.Add(99, 1).AddDay(1).Set(5, 1);
  EXPECT_THAT(std::string(zdt.status().message()), HasSubstr("no Calendar field 99"));
  EXPECT_THAT(std::string(zdt.Format("yyyy").status().message()), HasSubstr("field 99"));
  EXPECT_THAT(std::string(zdt.GetTime().status().message()), HasSubstr("field 99"));
}

TEST(ZdtTest, BadPatternIsAnError) {
  const absl::StatusOr<std::string> s = ShanghaiAt("2024-03-01T00:00:00").Format("yyyyMMddq");
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("illegal pattern letter 'q'"));
}

}  // namespace
}  // namespace hera::render
