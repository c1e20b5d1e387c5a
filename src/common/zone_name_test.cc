#include "common/zone_name.h"

#include <gtest/gtest.h>

namespace hera {
namespace {

TEST(ZoneNameTest, LoadsIanaNames) {
  absl::TimeZone tz;
  for (const char* name : {"UTC", "Asia/Shanghai", "America/Argentina/Buenos_Aires",
                           "America/Port-au-Prince", "Etc/GMT+8", "Etc/GMT-14"}) {
    EXPECT_TRUE(LoadIanaZone(name, &tz)) << name;
  }
  ASSERT_TRUE(LoadIanaZone("Asia/Shanghai", &tz));
  EXPECT_EQ(tz.name(), "Asia/Shanghai");
}

TEST(ZoneNameTest, RefusesPathsAndUnknownNames) {
  absl::TimeZone tz;
  for (const char* name : {"../../../../etc/localtime", "/etc/localtime", "Asia/../Asia/Tokyo",
                           "./UTC", "Asia//Tokyo", "Asia/Tokyo/", "", "localtime", "Mars/Olympus",
                           "Asia/Shang hai", "-UTC"}) {
    EXPECT_FALSE(LoadIanaZone(name, &tz)) << name;
  }
}

}  // namespace
}  // namespace hera
