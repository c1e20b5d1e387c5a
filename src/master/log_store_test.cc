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

TEST_F(LogStoreTest, WaitWakesOnAppendAndOnClose) {
  logs_->OpenRun(5);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(logs_->Append(5, 0, "x").ok());
  });
  EXPECT_TRUE(logs_->WaitForData(5, 0, absl::Seconds(30)));
  writer.join();
  EXPECT_FALSE(logs_->WaitForData(5, 1, absl::Milliseconds(10)));
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    logs_->CloseRun(5);
  });
  EXPECT_TRUE(logs_->WaitForData(5, 1, absl::Seconds(30)));
  closer.join();
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
