#include "worker/download_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>

#include "absl/synchronization/mutex.h"
#include "common/mutex_lock.h"
#include "exec/test_util.h"

namespace hera::worker {
namespace {

using ::testing::HasSubstr;

// Collects each run's Done status.
class Outcomes {
 public:
  DownloadStage::Done For(int64_t run) {
    return [this, run](absl::Status st) {
      MutexLock lock(&mu_);
      EXPECT_EQ(done_.count(run), 0u) << "Done called twice for run " << run;
      done_.emplace(run, std::move(st));
    };
  }
  // Waits for run's status.
  absl::Status Wait(int64_t run) {
    MutexLock lock(&mu_);
    auto has = [&] { return done_.count(run) > 0; };
    TsanReleasing(&mu_);  // The wait releases mu_ (common/mutex_lock.h).
    mu_.AwaitWithTimeout(absl::Condition(&has), exec::testing::kWait);
    TsanAcquired(&mu_);
    return done_.count(run) ? done_.at(run) : absl::DeadlineExceededError("no Done");
  }
  size_t size() {
    MutexLock lock(&mu_);
    return done_.size();
  }

 private:
  absl::Mutex mu_;
  std::map<int64_t, absl::Status> done_ ABSL_GUARDED_BY(mu_);
};

class DownloadStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(tmp_.Sub("src")) << "payload";
    const std::string stub = tmp_.Sub("slow-hdfs");
    std::ofstream(stub) << "#!/bin/bash\nexec sleep 60\n";
    ::chmod(stub.c_str(), 0755);
    slow_.hdfs_get = stub;
  }
  FetchJob Job(int64_t run, const std::string& uri) {
    FetchJob job;
    job.downloads = {{uri, "f"}};
    job.work_dir = tmp_.Sub("work/" + std::to_string(run));
    return job;
  }

  exec::testing::TempDir tmp_;
  FetchOptions slow_;
  Outcomes outcomes_;
};

TEST_F(DownloadStageTest, FetchedRunsAreHandedOnFailedOnesGetTheReason) {
  DownloadStage stage(2);
  stage.Submit(1, Job(1, "file://" + tmp_.Sub("src")), {}, outcomes_.For(1));
  stage.Submit(2, Job(2, "file:///no/such"), {}, outcomes_.For(2));
  EXPECT_TRUE(outcomes_.Wait(1).ok());
  std::ifstream fetched(tmp_.Sub("work/1/f"));
  std::string content;
  fetched >> content;
  EXPECT_EQ(content, "payload");
  const absl::Status failed = outcomes_.Wait(2);
  EXPECT_EQ(failed.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(failed.message(), HasSubstr("download file:///no/such failed"));
  EXPECT_FALSE(stage.Cancel(1)) << "a finished fetch is not the stage's any more";
}

TEST_F(DownloadStageTest, CancelStopsARunningAndAQueuedFetch) {
  DownloadStage stage(1);
  stage.Submit(1, Job(1, "hdfs:///slow"), slow_, outcomes_.For(1));
  stage.Submit(2, Job(2, "hdfs:///slow"), slow_, outcomes_.For(2));  // waits for the thread
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_TRUE(stage.Cancel(2));
  EXPECT_TRUE(stage.Cancel(1));
  EXPECT_EQ(outcomes_.Wait(1).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(outcomes_.Wait(2).code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(stage.Cancel(3));
}

TEST_F(DownloadStageTest, ShutdownEndsEveryFetchAndRefusesNewOnes) {
  DownloadStage stage(1);
  stage.Submit(1, Job(1, "hdfs:///slow"), slow_, outcomes_.For(1));
  stage.Submit(2, Job(2, "hdfs:///slow"), slow_, outcomes_.For(2));
  absl::SleepFor(absl::Milliseconds(200));
  stage.Shutdown();
  EXPECT_EQ(outcomes_.size(), 2u) << "Shutdown returns after every Done";
  EXPECT_EQ(outcomes_.Wait(1).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(outcomes_.Wait(2).code(), absl::StatusCode::kCancelled);
  stage.Submit(3, Job(3, "file://" + tmp_.Sub("src")), {}, outcomes_.For(3));
  EXPECT_EQ(outcomes_.Wait(3).code(), absl::StatusCode::kCancelled);
  stage.Shutdown();  // idempotent
}

}  // namespace
}  // namespace hera::worker
