#include "worker/result_outbox.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "exec/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hera::worker {
namespace {

using ::hera::exec::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

ResultRecord Record(int64_t run_id, std::string status = "success") {
  ResultRecord r;
  r.run_id = run_id;
  r.term = 7;
  r.exit_code = status == "success" ? 0 : 3;
  r.signal = status == "cancelled" ? 15 : 0;
  r.status = std::move(status);
  r.reason = "exit code " + std::to_string(r.exit_code) + " of run " + std::to_string(run_id);
  r.log_bytes = run_id * 1000;
  r.ended_at = absl::FromUnixMicros(1700000000123456 + run_id);
  return r;
}

std::vector<int64_t> Ids(const std::vector<ResultRecord>& records) {
  std::vector<int64_t> ids;
  for (const ResultRecord& r : records) ids.push_back(r.run_id);
  return ids;
}

class ResultOutboxTest : public ::testing::Test {
 protected:
  std::unique_ptr<ResultOutbox> Open(ResultOutboxOptions options = {}) {
    absl::StatusOr<std::unique_ptr<ResultOutbox>> outbox = ResultOutbox::Open(dir(), options);
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    return outbox.ok() ? *std::move(outbox) : nullptr;
  }
  std::string dir() const { return tmp_.Sub("outbox"); }
  std::string file() const { return dir() + "/outbox.log"; }
  int64_t FileSize() const { return static_cast<int64_t>(std::filesystem::file_size(file())); }
  void AppendToFile(const std::string& bytes) {
    std::ofstream(file(), std::ios::binary | std::ios::app) << bytes;
  }

  TempDir tmp_;
};

TEST_F(ResultOutboxTest, PutAckReopen) {
  {
    auto outbox = Open();
    ASSERT_NE(outbox, nullptr);
    EXPECT_THAT(outbox->Pending(), IsEmpty());
    ASSERT_TRUE(outbox->Put(Record(1)).ok());
    ASSERT_TRUE(outbox->Put(Record(2, "failed")).ok());
    ASSERT_TRUE(outbox->Put(Record(3, "cancelled")).ok());
    ASSERT_TRUE(outbox->Ack(2).ok());
    ASSERT_TRUE(outbox->Ack(2).ok());   // Acked twice (a re-sent result): a no-op.
    ASSERT_TRUE(outbox->Ack(99).ok());  // Never put: a no-op.
    EXPECT_THAT(Ids(outbox->Pending()), ElementsAre(1, 3));
  }
  auto outbox = Open();
  ASSERT_NE(outbox, nullptr);
  std::vector<ResultRecord> pending = outbox->Pending();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0], Record(1));  // Every field survives, ended_at to the microsecond.
  EXPECT_EQ(pending[1], Record(3, "cancelled"));
}

TEST_F(ResultOutboxTest, SecondOpenOfTheSameDirIsRefused) {
  auto outbox = Open();
  ASSERT_NE(outbox, nullptr);
  absl::StatusOr<std::unique_ptr<ResultOutbox>> second = ResultOutbox::Open(dir());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
}

TEST_F(ResultOutboxTest, PutOfTheSameRunTwiceKeepsTheLatest) {
  {
    auto outbox = Open();
    ASSERT_TRUE(outbox->Put(Record(1)).ok());
    ASSERT_TRUE(outbox->Put(Record(2)).ok());
    ASSERT_TRUE(outbox->Put(Record(1, "failed")).ok());
    EXPECT_THAT(outbox->Pending(), ElementsAre(Record(2), Record(1, "failed")));
  }
  auto outbox = Open();
  EXPECT_THAT(outbox->Pending(), ElementsAre(Record(2), Record(1, "failed")));
  ASSERT_TRUE(outbox->Ack(1).ok());  // One ack clears the run, whichever put it saw.
  EXPECT_THAT(outbox->Pending(), ElementsAre(Record(2)));
}

TEST_F(ResultOutboxTest, TornTailIsIgnoredAndTruncated) {
  {
    auto outbox = Open();
    for (int64_t id = 1; id <= 3; ++id) ASSERT_TRUE(outbox->Put(Record(id)).ok());
  }
  const int64_t whole = FileSize();
  // A crash in the middle of writing the third entry: cut a few of its bytes...
  std::filesystem::resize_file(file(), static_cast<uintmax_t>(whole - 5));
  {
    auto outbox = Open();
    ASSERT_NE(outbox, nullptr);
    EXPECT_THAT(Ids(outbox->Pending()), ElementsAre(1, 2));
    const int64_t two = FileSize();
    EXPECT_LT(two, whole - 5);  // The torn entry is gone from the file, not just skipped.
    // ...and new entries after the cut are found at the next open.
    ASSERT_TRUE(outbox->Put(Record(4)).ok());
  }
  // Garbage after good entries (zeros from an extended size, or random bytes).
  AppendToFile(std::string(64, '\0'));
  {
    auto outbox = Open();
    EXPECT_THAT(Ids(outbox->Pending()), ElementsAre(1, 2, 4));
    ASSERT_TRUE(outbox->Ack(1).ok());
  }
  AppendToFile(std::string("\x10\0\0\0", 4) + "garbage that is not an entry at all");
  auto outbox = Open();
  ASSERT_NE(outbox, nullptr);
  EXPECT_THAT(Ids(outbox->Pending()), ElementsAre(2, 4));
}

TEST_F(ResultOutboxTest, CorruptByteInTheLastEntryDropsOnlyIt) {
  {
    auto outbox = Open();
    ASSERT_TRUE(outbox->Put(Record(1)).ok());
    ASSERT_TRUE(outbox->Put(Record(2)).ok());
  }
  {
    std::fstream f(file(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(FileSize() - 3);
    f.put('\x7f');  // Inside run 2's ended_at: only the crc can tell.
  }
  auto outbox = Open();
  EXPECT_THAT(Ids(outbox->Pending()), ElementsAre(1));
}

TEST_F(ResultOutboxTest, ForeignFileIsRefusedNotOverwritten) {
  std::filesystem::create_directories(dir());
  std::ofstream(file()) << "this is somebody's file\n";
  absl::StatusOr<std::unique_ptr<ResultOutbox>> outbox = ResultOutbox::Open(dir());
  EXPECT_EQ(outbox.status().code(), absl::StatusCode::kDataLoss) << outbox.status();
  EXPECT_EQ(FileSize(), 24);
}

TEST_F(ResultOutboxTest, ManyRecords) {
  // Long reasons, so the file spans several of Open's reads. (Each Put and Ack is an fdatasync;
  // a few hundred keep the test quick on a real disk.)
  auto big = [](int64_t id) {
    ResultRecord r = Record(id);
    r.reason = std::string(300, static_cast<char>('a' + id % 26));
    return r;
  };
  ResultOutboxOptions options;
  options.compact_min_garbage_bytes = int64_t{1} << 40;  // Never: the file holds every entry.
  {
    auto outbox = Open(options);
    for (int64_t id = 1; id <= 400; ++id) ASSERT_TRUE(outbox->Put(big(id)).ok());
    for (int64_t id = 1; id <= 400; id += 2) ASSERT_TRUE(outbox->Ack(id).ok());
  }
  EXPECT_GT(FileSize(), 2 * 64 * 1024);
  auto outbox = Open(options);
  std::vector<ResultRecord> pending = outbox->Pending();
  ASSERT_EQ(pending.size(), 200u);
  for (size_t i = 0; i < pending.size(); ++i) {
    EXPECT_EQ(pending[i], big(static_cast<int64_t>(2 * i + 2)));
  }
}

TEST_F(ResultOutboxTest, CompactionKeepsPendingOnesInOrder) {
  ResultOutboxOptions options;
  options.compact_min_garbage_bytes = 1024;
  auto outbox = Open(options);
  for (int64_t id = 1; id <= 200; ++id) ASSERT_TRUE(outbox->Put(Record(id)).ok());
  const int64_t full = outbox->file_bytes();
  EXPECT_EQ(full, FileSize());
  // Ack all but every 50th: acked entries come to dominate and the file is rewritten.
  std::vector<int64_t> kept;
  for (int64_t id = 1; id <= 200; ++id) {
    if (id % 50 == 0) {
      kept.push_back(id);
    } else {
      ASSERT_TRUE(outbox->Ack(id).ok());
    }
  }
  EXPECT_THAT(Ids(outbox->Pending()), ::testing::ElementsAreArray(kept));
  EXPECT_LT(outbox->file_bytes(), full / 4);
  EXPECT_EQ(outbox->file_bytes(), FileSize());
  EXPECT_FALSE(std::filesystem::exists(file() + ".tmp"));

  // The rewritten file takes appends and replays like any other.
  ASSERT_TRUE(outbox->Put(Record(500)).ok());
  kept.push_back(500);
  outbox.reset();
  outbox = Open(options);
  EXPECT_THAT(Ids(outbox->Pending()), ::testing::ElementsAreArray(kept));
  EXPECT_EQ(outbox->Pending().front(), Record(50));
}

TEST_F(ResultOutboxTest, LeftoverTempFileOfACrashedCompactionIsIgnored) {
  {
    auto outbox = Open();
    ASSERT_TRUE(outbox->Put(Record(1)).ok());
  }
  std::ofstream(file() + ".tmp") << "half a compaction";
  auto outbox = Open();
  EXPECT_THAT(Ids(outbox->Pending()), ElementsAre(1));
  EXPECT_FALSE(std::filesystem::exists(file() + ".tmp"));
}

TEST_F(ResultOutboxTest, SurvivesKillNineRightAfterPut) {
  // A child process puts, then dies by SIGKILL without closing anything: what Put returned OK
  // for must be there.
  std::filesystem::create_directories(dir());
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    absl::StatusOr<std::unique_ptr<ResultOutbox>> outbox = ResultOutbox::Open(dir());
    if (!outbox.ok() || !(*outbox)->Put(Record(1)).ok() || !(*outbox)->Put(Record(2)).ok() ||
        !(*outbox)->Ack(1).ok()) {
      ::_exit(1);
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  auto outbox = Open();  // The dead child's flock went with it.
  ASSERT_NE(outbox, nullptr);
  EXPECT_THAT(outbox->Pending(), ElementsAre(Record(2)));
}

}  // namespace
}  // namespace hera::worker
