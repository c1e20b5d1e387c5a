#include "common/time_format.h"

#include <gtest/gtest.h>

namespace hera {
namespace {

TEST(TimeFormatTest, FormatsWithOffsetAndOptionalMillis) {
  absl::TimeZone sh;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &sh));
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(FormatIsoTime(t, sh), "2023-11-15T06:13:20+08:00");
  EXPECT_EQ(FormatIsoTime(t + absl::Milliseconds(5)), "2023-11-14T22:13:20.005+00:00");
}

TEST(TimeFormatTest, ParsesOffsetsZuluAndLocal) {
  absl::TimeZone sh;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &sh));
  const absl::Time want = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(*ParseIsoTime("2023-11-15T06:13:20+08:00"), want);
  EXPECT_EQ(*ParseIsoTime("2023-11-14T22:13:20Z"), want);
  EXPECT_EQ(*ParseIsoTime("2023-11-15T06:13:20", sh), want);
  EXPECT_FALSE(ParseIsoTime("yesterday").ok());
}

}  // namespace
}  // namespace hera
