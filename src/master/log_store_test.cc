#include "master/log_store.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <atomic>
#include <thread>

#include "absl/strings/str_format.h"

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
  EXPECT_EQ(logs_->Read(7, 0, 100)->data, "hello world\n");
  EXPECT_EQ(logs_->Read(7, 6, 3)->data, "wor");
  EXPECT_EQ(logs_->Read(7, 100, 10)->data, "");
  EXPECT_EQ(logs_->Size(7), 12);
  EXPECT_EQ(logs_->Read(8, 0, 10)->data, "") << "a run without output has an empty log";
}

TEST_F(LogStoreTest, ResentChunksAreStoredOnceAndGapsRefused) {
  logs_->OpenRun(1);
  ASSERT_TRUE(logs_->Append(1, 0, "abc").ok());
  ASSERT_TRUE(logs_->Append(1, 0, "abc").ok());
  ASSERT_TRUE(logs_->Append(1, 1, "bcde").ok());
  EXPECT_EQ(logs_->Read(1, 0, 100)->data, "abcde");
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
  EXPECT_EQ(logs_->Read(3, 0, 100)->data, "12345678");
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
  ASSERT_EQ(logs_->WatchForData(6, 0, [&] { seen = logs_->Read(6, 0, 10)->data; }).state,
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
  EXPECT_EQ(logs_->Read(9, 0, 100)->data, "pw=");
  EXPECT_EQ(logs_->Size(9), 3);
  // A reconnecting worker is told Size() and re-sends from there: taken once.
  ASSERT_TRUE(logs_->Append(9, 3, "hun").ok());
  ASSERT_TRUE(logs_->Append(9, 6, "ter2 ok\nhu").ok());
  EXPECT_EQ(logs_->Read(9, 0, 100)->data, "pw=******* ok\n");
  EXPECT_EQ(logs_->Size(9), 14) << "masking keeps the worker's offsets";
  EXPECT_EQ(logs_->Append(9, 20, "x").code(), absl::StatusCode::kDataLoss);
  logs_->CloseRun(9);  // the held "hu" is written when the run ends
  EXPECT_EQ(logs_->Read(9, 0, 100)->data, "pw=******* ok\nhu");
}

// What a run printed: numbered lines, so any byte out of place shows.
std::string Output(int64_t bytes) {
  std::string out;
  for (int i = 0; static_cast<int64_t>(out.size()) < bytes; ++i) {
    absl::StrAppendFormat(&out, "line %08d of a long log\n", i);
  }
  out.resize(bytes);
  return out;
}

// Disk space the file takes, as `du` counts it.
int64_t DiskBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_blocks) * 512 : -1;
}

// Checks that `chunk`, read at `offset`, is either bytes of `full` ending at its next_offset,
// or a notice of a dropped middle followed by such bytes. Returns the log bytes it held.
std::string CheckChunk(const std::string& full, int64_t offset,
                       const core::LogReader::Chunk& chunk) {
  std::string_view data = chunk.data;
  EXPECT_EQ(data.find('\0'), std::string_view::npos) << "a dropped block was read as zeros";
  if (const size_t notice = data.find("hera: "); notice != std::string_view::npos &&
                                                   notice <= 1 && chunk.next_offset > offset) {
    const size_t line_end = data.find('\n', notice);
    EXPECT_NE(line_end, std::string_view::npos);
    EXPECT_NE(data.find("were dropped here"), std::string_view::npos) << data.substr(0, 200);
    data.remove_prefix(line_end + 1);
  } else {
    EXPECT_EQ(chunk.next_offset, offset + static_cast<int64_t>(data.size()));
  }
  const int64_t begin = chunk.next_offset - static_cast<int64_t>(data.size());
  EXPECT_GE(begin, offset);
  EXPECT_EQ(std::string(data), full.substr(begin, data.size())) << "at " << begin;
  return std::string(data);
}

TEST_F(LogStoreTest, ALogOverTheCapKeepsItsHeadAndTailAndFreesTheMiddle) {
  constexpr int64_t kCap = 64 << 10;
  logs_->set_cap_bytes(kCap);
  const std::string full = Output(1 << 20);
  logs_->OpenRun(11);
  for (size_t at = 0; at < full.size(); at += 3000) {
    ASSERT_TRUE(logs_->Append(11, at, std::string_view(full).substr(at, 3000)).ok());
  }
  logs_->CloseRun(11);
  EXPECT_EQ(logs_->Size(11), 1 << 20) << "offsets stay those of the run's output";
  // The cap plus a step (a quarter of the tail here) and a block either side.
  EXPECT_LE(DiskBytes(logs_->PathOf(11)), kCap + kCap / 8 + 2 * 4096);

  // Read from the start as a client does, following next_offset.
  std::string text;
  int64_t offset = 0;
  int notices = 0;
  while (offset < logs_->Size(11)) {
    auto chunk = logs_->Read(11, offset, 10000);
    ASSERT_TRUE(chunk.ok());
    ASSERT_GT(chunk->next_offset, offset);
    CheckChunk(full, offset, *chunk);
    if (chunk->data.find("were dropped here") != std::string::npos) ++notices;
    text += chunk->data;
    offset = chunk->next_offset;
  }
  EXPECT_EQ(notices, 1);
  EXPECT_EQ(text.substr(0, kCap / 2), full.substr(0, kCap / 2)) << "the head is whole";
  EXPECT_EQ(text.substr(text.size() - kCap / 2), full.substr(full.size() - kCap / 2))
      << "the tail is whole";
  EXPECT_LT(text.size(), static_cast<size_t>(kCap + kCap / 4));

  // A reader resuming inside the dropped middle is told, and moves past it.
  auto middle = logs_->Read(11, 500000, 100);
  ASSERT_TRUE(middle.ok());
  EXPECT_EQ(middle->data.rfind("hera: ", 0), 0u) << middle->data;
  EXPECT_GT(middle->next_offset, 500000);
  CheckChunk(full, 500000, *middle);
}

TEST_F(LogStoreTest, TheCapHoldsAcrossAReopenAndWithoutOneNothingIsDropped) {
  logs_->set_cap_bytes(64 << 10);
  const std::string full = Output(512 << 10);
  logs_->OpenRun(12);
  ASSERT_TRUE(logs_->Append(12, 0, std::string_view(full).substr(0, 200000)).ok());
  logs_->CloseRun(12);  // the master restarted while the worker ran on
  logs_->OpenRun(12);
  for (size_t at = 200000; at < full.size(); at += 5000) {
    ASSERT_TRUE(logs_->Append(12, at, std::string_view(full).substr(at, 5000)).ok());
  }
  logs_->CloseRun(12);
  EXPECT_LE(DiskBytes(logs_->PathOf(12)), (64 << 10) + (16 << 10) + 2 * 4096);
  EXPECT_EQ(logs_->Size(12), 512 << 10);

  logs_->set_cap_bytes(0);
  logs_->OpenRun(13);
  ASSERT_TRUE(logs_->Append(13, 0, full).ok());
  logs_->CloseRun(13);
  auto all = logs_->Read(13, 0, 1 << 20);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->data, full);
  EXPECT_EQ(all->next_offset, 512 << 10);
}

TEST_F(LogStoreTest, AFollowerNeverReadsDroppedBytesWhileTheMiddleIsFreed) {
  logs_->set_cap_bytes(32 << 10);
  const std::string full = Output(4 << 20);
  logs_->OpenRun(14);
  std::atomic<bool> done = false;
  std::thread writer([&] {
    for (size_t at = 0; at < full.size(); at += 1000) {
      ASSERT_TRUE(logs_->Append(14, at, std::string_view(full).substr(at, 1000)).ok());
    }
    done = true;
  });
  // A slow reader: small reads, so the writer keeps dropping what it is about to read.
  int64_t offset = 0;
  while (!done || offset < logs_->Size(14)) {
    auto chunk = logs_->Read(14, offset, 700);
    ASSERT_TRUE(chunk.ok());
    CheckChunk(full, offset, *chunk);
    offset = chunk->next_offset;
  }
  writer.join();
  logs_->CloseRun(14);
  EXPECT_EQ(offset, 4 << 20);
}

}  // namespace
}  // namespace hera::master
