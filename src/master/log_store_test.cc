#include "master/log_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace hera::master {
namespace {

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hera_log_store_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    logs_ = *LogStore::Open(dir_.string());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::unique_ptr<LogStore> logs_;
};

TEST_F(LogStoreTest, AppendsAndReadsByOffset) {
  logs_->OpenRun(7);
  ASSERT_TRUE(logs_->Append(7, 0, "hello ").ok());
  ASSERT_TRUE(logs_->Append(7, 6, "world\n").ok());
  EXPECT_EQ(*logs_->Read(7, 0, 100), "hello world\n");
  EXPECT_EQ(*logs_->Read(7, 6, 3), "wor");
  EXPECT_EQ(*logs_->Read(7, 100, 10), "");
  EXPECT_EQ(logs_->Size(7), 12);
  EXPECT_EQ(*logs_->Read(8, 0, 10), "") << "a run without output has an empty log";
}

TEST_F(LogStoreTest, ResentChunksAreStoredOnceAndGapsRefused) {
  logs_->OpenRun(1);
  ASSERT_TRUE(logs_->Append(1, 0, "abc").ok());
  ASSERT_TRUE(logs_->Append(1, 0, "abc").ok());
  ASSERT_TRUE(logs_->Append(1, 1, "bcde").ok());
  EXPECT_EQ(*logs_->Read(1, 0, 100), "abcde");
  EXPECT_EQ(logs_->Append(1, 10, "x").code(), absl::StatusCode::kDataLoss);
  logs_->CloseRun(1);
  EXPECT_EQ(logs_->Append(1, 5, "x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LogStoreTest, ReopenContinuesAtTheStoredSize) {
  logs_->OpenRun(3);
  ASSERT_TRUE(logs_->Append(3, 0, "12345").ok());
  logs_->CloseRun(3);
  logs_->OpenRun(3);
  ASSERT_TRUE(logs_->Append(3, 5, "678").ok());
  EXPECT_EQ(*logs_->Read(3, 0, 100), "12345678");
}

TEST_F(LogStoreTest, WatchFiresOnceOnGrowthPastItsOffsetAndOnClose) {
  using State = core::LogReader::DataWatch::State;
  EXPECT_EQ(logs_->WatchForData(5, 0, [] {}).state, State::kNotOpen) << "not started yet";
  logs_->OpenRun(5);
  int grew = 0, closed = 0;
  const auto watch = logs_->WatchForData(5, 2, [&] { ++grew; });
  ASSERT_EQ(watch.state, State::kWatching);
  ASSERT_TRUE(logs_->Append(5, 0, "ab").ok());
  EXPECT_EQ(grew, 0) << "the log is not past offset 2 yet";
  ASSERT_TRUE(logs_->Append(5, 2, "c").ok());
  ASSERT_TRUE(logs_->Append(5, 3, "d").ok());
  EXPECT_EQ(grew, 1) << "fired once, then forgotten";
  EXPECT_EQ(logs_->WatchForData(5, 3, [] {}).state, State::kReady);

  ASSERT_EQ(logs_->WatchForData(5, 4, [&] { ++closed; }).state, State::kWatching);
  int dropped = 0;
  const auto unwatched = logs_->WatchForData(5, 4, [&] { ++dropped; });
  logs_->Unwatch(unwatched.id);
  logs_->Unwatch(watch.id);  // already fired: nothing happens
  logs_->CloseRun(5);
  EXPECT_EQ(closed, 1);
  EXPECT_EQ(dropped, 0);
  EXPECT_EQ(logs_->WatchForData(5, 4, [] {}).state, State::kNotOpen) << "ended";
}

TEST_F(LogStoreTest, AWatchMayCallBackIntoTheStore) {
  logs_->OpenRun(6);
  std::string seen;
  ASSERT_EQ(logs_->WatchForData(6, 0, [&] { seen = *logs_->Read(6, 0, 10); }).state,
            core::LogReader::DataWatch::State::kWatching);
  std::thread writer([&] { ASSERT_TRUE(logs_->Append(6, 0, "xyz").ok()); });
  writer.join();
  EXPECT_EQ(seen, "xyz");
}

TEST_F(LogStoreTest, SecretsAreMaskedAcrossChunksAndOffsetsStayTheWorkers) {
  logs_->OpenRun(9);
  logs_->SetSecrets(9, {"hunter2"});
  ASSERT_TRUE(logs_->Append(9, 0, "pw=hun").ok());
  // "hun" may start the secret: it is held back, so readers and Size() stop before it.
  EXPECT_EQ(*logs_->Read(9, 0, 100), "pw=");
  EXPECT_EQ(logs_->Size(9), 3);
  // A reconnecting worker is told Size() and re-sends from there: taken once.
  ASSERT_TRUE(logs_->Append(9, 3, "hun").ok());
  ASSERT_TRUE(logs_->Append(9, 6, "ter2 ok\nhu").ok());
  EXPECT_EQ(*logs_->Read(9, 0, 100), "pw=******* ok\n");
  EXPECT_EQ(logs_->Size(9), 14) << "masking keeps the worker's offsets";
  EXPECT_EQ(logs_->Append(9, 20, "x").code(), absl::StatusCode::kDataLoss);
  logs_->CloseRun(9);  // the held "hu" is written when the run ends
  EXPECT_EQ(*logs_->Read(9, 0, 100), "pw=******* ok\nhu");
}

}  // namespace
}  // namespace hera::master
