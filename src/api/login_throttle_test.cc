#include "api/login_throttle.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace hera::api {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1790000000);

TEST(LoginThrottleTest, FreeFailuresThenDoublingWaitsUpToTheCap) {
  LoginThrottle t;
  absl::Time now = kT0;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.WaitFor("admin", "10.0.0.1", now), absl::ZeroDuration()) << i;
    t.RecordFailure("admin", "10.0.0.1", now);
  }
  EXPECT_EQ(t.WaitFor("admin", "10.0.0.1", now), absl::Seconds(1));
  now += absl::Seconds(1);
  EXPECT_EQ(t.WaitFor("admin", "10.0.0.1", now), absl::ZeroDuration()) << "the wait is over";
  t.RecordFailure("admin", "10.0.0.1", now);
  EXPECT_EQ(t.WaitFor("admin", "10.0.0.1", now), absl::Seconds(2));
  for (int i = 0; i < 20; ++i) t.RecordFailure("admin", "10.0.0.1", now);
  EXPECT_EQ(t.WaitFor("admin", "10.0.0.1", now), absl::Seconds(60)) << "capped";
  // Another user from another address is not slowed by this one's failures.
  EXPECT_EQ(t.WaitFor("bob", "10.0.0.2", now), absl::ZeroDuration());
  // The same name from elsewhere is: the guesses are about the account.
  EXPECT_EQ(t.WaitFor("admin", "10.0.0.2", now), absl::Seconds(60));
}

TEST(LoginThrottleTest, SuccessClearsTheUserAndOldFailuresAreForgotten) {
  LoginThrottle t;
  for (int i = 0; i < 7; ++i) t.RecordFailure("admin", "a", kT0);
  EXPECT_GT(t.WaitFor("admin", "b", kT0), absl::ZeroDuration());
  t.RecordSuccess("admin");
  EXPECT_EQ(t.WaitFor("admin", "b", kT0), absl::ZeroDuration());
  for (int i = 0; i < 7; ++i) t.RecordFailure("carol", "c", kT0);
  EXPECT_EQ(t.WaitFor("carol", "d", kT0 + absl::Minutes(15)), absl::ZeroDuration());
}

TEST(LoginThrottleTest, OneAddressGuessingManyNamesIsSlowed) {
  LoginThrottle t;
  for (int i = 0; i < 20; ++i) t.RecordFailure(absl::StrCat("user", i), "10.9.9.9", kT0);
  EXPECT_EQ(t.WaitFor("someone-new", "10.9.9.9", kT0), absl::Seconds(1));
  EXPECT_EQ(t.WaitFor("someone-new", "10.0.0.1", kT0), absl::ZeroDuration());
}

TEST(LoginThrottleTest, MemoryIsBounded) {
  LoginThrottleOptions options;
  options.max_tracked = 100;
  LoginThrottle t(options);
  for (int i = 0; i < 1000; ++i) {
    t.RecordFailure(absl::StrCat("u", i), absl::StrCat("a", i), kT0 + absl::Seconds(i));
  }
  EXPECT_LE(t.tracked(), 200u);
  // The newest are still counted.
  for (int i = 0; i < 5; ++i) t.RecordFailure("u999", "a999", kT0 + absl::Seconds(1000));
  EXPECT_GT(t.WaitFor("u999", "x", kT0 + absl::Seconds(1000)), absl::ZeroDuration());
}

}  // namespace
}  // namespace hera::api
