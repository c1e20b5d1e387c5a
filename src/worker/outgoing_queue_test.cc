#include "worker/outgoing_queue.h"

#include <thread>

#include "gtest/gtest.h"

namespace hera::worker {
namespace {

v1::WorkerMessage Log(int64_t run, size_t bytes) {
  v1::WorkerMessage message;
  message.mutable_log()->set_run_id(run);
  message.mutable_log()->set_data(std::string(bytes, 'x'));
  return message;
}

v1::WorkerMessage Started(int64_t run) {
  v1::WorkerMessage message;
  message.mutable_started()->set_run_id(run);
  return message;
}

TEST(OutgoingQueueTest, DropsEverythingWhileClosed) {
  OutgoingQueue queue(1024);
  EXPECT_FALSE(queue.Push(Started(1)));
  queue.Open();
  EXPECT_TRUE(queue.Push(Started(2)));
  queue.Close();  // What was queued goes too: it is re-sent after the next registration.
  EXPECT_FALSE(queue.Pop(absl::InfiniteFuture()).has_value());
  queue.Open();
  EXPECT_FALSE(queue.Pop(absl::Now()).has_value());
}

TEST(OutgoingQueueTest, BoundsLogBytesButNotOtherMessages) {
  OutgoingQueue queue(100);
  queue.Open();
  EXPECT_TRUE(queue.PushLog(Log(1, 60)));
  EXPECT_FALSE(queue.PushLog(Log(1, 60)));  // 120 > 100
  EXPECT_TRUE(queue.PushLog(Log(1, 40)));
  EXPECT_TRUE(queue.Push(Started(2)));
  ASSERT_TRUE(queue.Pop(absl::Now()).has_value());  // frees 60 bytes
  EXPECT_TRUE(queue.PushLog(Log(1, 60)));
  std::vector<int> order;
  while (auto m = queue.Pop(absl::Now())) order.push_back(static_cast<int>(m->body_case()));
  EXPECT_EQ(order, (std::vector<int>{v1::WorkerMessage::kLog, v1::WorkerMessage::kStarted,
                                     v1::WorkerMessage::kLog}));
}

TEST(OutgoingQueueTest, PopWaitsForAMessageOrClose) {
  OutgoingQueue queue(1024);
  queue.Open();
  std::thread producer([&] {
    queue.Push(Started(5));
    queue.Close();
  });
  std::optional<v1::WorkerMessage> first = queue.Pop(absl::InfiniteFuture());
  producer.join();
  // Either the message came first, or Close() dropped it before Pop() ran; both end.
  if (first) {
    EXPECT_EQ(first->started().run_id(), 5);
  }
  EXPECT_FALSE(queue.Pop(absl::InfiniteFuture()).has_value());
}

}  // namespace
}  // namespace hera::worker
