#pragma once
// Helpers shared by the render tests (not part of hera_render).

#include <gtest/gtest.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/time_format.h"

namespace hera::render::testing {

inline absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

// An ISO-8601 time; without an offset it is local time in `zone`.
inline absl::Time At(const std::string& text, const std::string& zone) {
  const absl::StatusOr<absl::Time> t = ParseIsoTime(text, Zone(zone));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : absl::UnixEpoch();
}

}  // namespace hera::render::testing
