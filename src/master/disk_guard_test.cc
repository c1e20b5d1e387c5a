#include "master/disk_guard.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

#include "master/log_store.h"

namespace hera::master {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1790000000);

class DiskGuardTest : public ::testing::Test {
 protected:
  DiskGuardTest() {
    DiskGuardOptions options;
    options.path = "/data";
    options.reserve_bytes = 100 << 20;
    options.free_bytes = [this](const std::string&) -> absl::StatusOr<int64_t> {
      ++reads_;
      return free_;
    };
    guard_ = std::make_unique<DiskGuard>(options, &clock_);
  }
  FakeClock clock_{kT0};
  int64_t free_ = 1LL << 30;
  int reads_ = 0;
  std::unique_ptr<DiskGuard> guard_;
};

TEST_F(DiskGuardTest, FullBelowTheReserveAndBackAboveIt) {
  EXPECT_FALSE(guard_->Full());
  EXPECT_EQ(guard_->Why(), "");
  free_ = 10 << 20;
  EXPECT_FALSE(guard_->Full()) << "read at most once a second";
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(guard_->Full());
  EXPECT_NE(guard_->Why().find("10 MiB free"), std::string::npos) << guard_->Why();
  EXPECT_NE(guard_->Why().find("nothing was changed"), std::string::npos);
  free_ = 200 << 20;
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(guard_->Full());
}

TEST_F(DiskGuardTest, AWriteThatFoundNoSpaceCountsUntilSpaceComesBack) {
  EXPECT_FALSE(guard_->OnWriteFailure(absl::UnavailableError("database is locked")));
  EXPECT_FALSE(guard_->Full());
  // The space looks fine (reserved blocks, a quota): the failed write still says full...
  EXPECT_TRUE(guard_->OnWriteFailure(
      absl::ResourceExhaustedError("commit batch: database or disk is full")));
  EXPECT_TRUE(guard_->Full());
  EXPECT_TRUE(IsDiskFull(absl::ErrnoToStatus(ENOSPC, "write")));
  EXPECT_TRUE(IsDiskFull(absl::ErrnoToStatus(EDQUOT, "write")));
  EXPECT_FALSE(IsDiskFull(absl::ErrnoToStatus(EIO, "write")));
  clock_.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(guard_->Full());
  // ... until a write succeeds,
  guard_->OnWriteOk();
  EXPECT_FALSE(guard_->Full());
  // ... or a reading a while after the failure shows room.
  EXPECT_TRUE(guard_->OnWriteFailure(absl::ErrnoToStatus(ENOSPC, "write")));
  EXPECT_TRUE(guard_->Full());
  free_ = 50 << 20;
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(guard_->Full()) << "below the reserve";
  free_ = 500 << 20;
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(guard_->Full());
  EXPECT_GT(reads_, 0);
}

TEST_F(DiskGuardTest, RoomTakenCountsUntilTheNextReading) {
  free_ = 110 << 20;
  EXPECT_TRUE(guard_->TakeRoom(6 << 20));
  EXPECT_TRUE(guard_->TakeRoom(4 << 20));
  EXPECT_FALSE(guard_->TakeRoom(1)) << "the reserve is reached before the disk is read again";
  EXPECT_TRUE(guard_->Full()) << "full once logs are refused";
  free_ = 100 << 20;  // what the writes really took
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(guard_->TakeRoom(1));
  free_ = 300 << 20;
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(guard_->TakeRoom(1 << 20));
}

TEST_F(DiskGuardTest, LogsAreNotStoredWhileTheDiskIsFull) {
  char tmpl[] = "/tmp/hera_disk_guard_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  auto logs = LogStore::Open(std::string(tmpl) + "/logs");
  ASSERT_TRUE(logs.ok());
  (*logs)->set_disk_guard(guard_.get());
  (*logs)->OpenRun(1);
  ASSERT_TRUE((*logs)->Append(1, 0, "hello\n").ok());
  free_ = 1 << 20;
  clock_.Advance(absl::Seconds(1));
  const absl::Status refused = (*logs)->Append(1, 6, "more\n");
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ((*logs)->Size(1), 6);
  free_ = 1LL << 30;
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE((*logs)->Append(1, 6, "more\n").ok());
  EXPECT_EQ((*logs)->Read(1, 0, 100)->data, "hello\nmore\n");
  (*logs)->CloseRun(1);
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
}

}  // namespace
}  // namespace hera::master
