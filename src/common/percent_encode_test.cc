#include "common/percent_encode.h"

#include <gtest/gtest.h>

namespace hera {
namespace {

TEST(PercentEncodeTest, KeepsUnreservedBytesAndEncodesTheRest) {
  EXPECT_EQ(PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(PercentEncode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(PercentEncode("2026-11-24T10:00:00+08:00"), "2026-11-24T10%3A00%3A00%2B08%3A00");
  EXPECT_EQ(PercentEncode("\xe6\x97\xa5"), "%E6%97%A5");  // 日, UTF-8
  EXPECT_EQ(PercentEncode(std::string_view("\0", 1)), "%00");
  EXPECT_EQ(PercentEncode(""), "");
}

}  // namespace
}  // namespace hera
