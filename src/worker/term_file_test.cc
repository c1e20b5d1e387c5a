#include "worker/term_file.h"

#include <fstream>

#include "exec/test_util.h"
#include "gtest/gtest.h"
#include "worker/worker_identity.h"

namespace hera::worker {
namespace {

using ::hera::exec::testing::TempDir;

TEST(TermFileTest, StartsAtZeroAndKeepsTheHighestTerm) {
  TempDir tmp;
  const std::string path = tmp.Sub("term");
  {
    absl::StatusOr<TermFile> term = TermFile::Open(path);
    ASSERT_TRUE(term.ok()) << term.status();
    EXPECT_EQ(term->max_term(), 0u);
    ASSERT_TRUE(term->Raise(4).ok());
    ASSERT_TRUE(term->Raise(2).ok());  // Lower: ignored.
    EXPECT_EQ(term->max_term(), 4u);
  }
  absl::StatusOr<TermFile> reopened = TermFile::Open(path);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->max_term(), 4u);
}

TEST(TermFileTest, RefusesAFileThatIsNotATerm) {
  TempDir tmp;
  std::ofstream(tmp.Sub("term")) << "four\n";
  absl::StatusOr<TermFile> term = TermFile::Open(tmp.Sub("term"));
  ASSERT_FALSE(term.ok());
  EXPECT_EQ(term.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(term.status().message().find("four"), absl::string_view::npos);
}

TEST(WorkerIdentityTest, AnIdIsGeneratedOnceAndKept) {
  TempDir tmp;
  absl::StatusOr<std::string> id = LoadOrCreateWorkerId(tmp.path(), "");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->rfind(HostName() + "-", 0), 0u) << *id;
  EXPECT_EQ(*LoadOrCreateWorkerId(tmp.path(), ""), *id);
  // A configured id replaces it, and is kept for starts without one.
  EXPECT_EQ(*LoadOrCreateWorkerId(tmp.path(), "named"), "named");
  EXPECT_EQ(*LoadOrCreateWorkerId(tmp.path(), ""), "named");
}

TEST(WorkerIdentityTest, OneWorkerPerDataDir) {
  TempDir tmp;
  absl::StatusOr<UniqueFd> first = LockWorkerDataDir(tmp.path());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<UniqueFd> second = LockWorkerDataDir(tmp.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->Reset();
  EXPECT_TRUE(LockWorkerDataDir(tmp.path()).ok());
}

}  // namespace
}  // namespace hera::worker
