#include "worker/fake_master.h"

#include <chrono>

#include "common/mutex_lock.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace hera::worker::testing {

v1::Registered FakeMaster::DefaultRegistered() {
  v1::Registered registered;
  registered.set_term(1);
  registered.set_heartbeat_interval_ms(100);
  registered.set_lost_after_ms(60000);
  return registered;
}

std::unique_ptr<FakeMaster> FakeMaster::Start(
    std::string token, int port, v1::Registered registered,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  std::unique_ptr<FakeMaster> master(new FakeMaster(std::move(token), std::move(registered)));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                           credentials ? credentials : grpc::InsecureServerCredentials(),
                           &master->port_);
  builder.RegisterService(master.get());
  // The worker pings every 10 s on a quiet stream (worker/master_channel.cc).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  master->server_ = builder.BuildAndStart();
  EXPECT_TRUE(master->server_ != nullptr && master->port_ > 0) << "cannot serve on port " << port;
  if (master->server_ == nullptr || master->port_ == 0) return nullptr;
  return master;
}

void FakeMaster::Shutdown() {
  {
    MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  // A deadline of now cancels the streams at once, as a crashed master would end them.
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
}

void FakeMaster::set_token(std::string token) {
  MutexLock lock(&mu_);
  token_ = std::move(token);
}

grpc::Status FakeMaster::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::MasterMessage, v1::WorkerMessage>* stream) {
  {
    MutexLock lock(&mu_);
    auto auth = context->client_metadata().find("authorization");
    if (auth == context->client_metadata().end() ||
        std::string(auth->second.data(), auth->second.size()) != "Bearer " + token_) {
      ++rejected_;
      changed_.SignalAll();
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong cluster token");
    }
  }
  v1::WorkerMessage first;
  if (!stream->Read(&first)) return grpc::Status::OK;
  Record(first);
  if (!first.has_register_()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "Register must come first");
  }
  v1::MasterMessage reply;
  *reply.mutable_registered() = registered_;
  {
    MutexLock lock(&mu_);
    if (!stream->Write(reply)) return grpc::Status::OK;
    stream_ = stream;
  }
  v1::WorkerMessage message;
  while (stream->Read(&message)) Record(message);
  MutexLock lock(&mu_);
  if (stream_ == stream) stream_ = nullptr;
  return grpc::Status::OK;
}

void FakeMaster::Record(const v1::WorkerMessage& message) {
  MutexLock lock(&mu_);
  received_.push_back(message);
  changed_.SignalAll();
}

bool FakeMaster::Send(const v1::MasterMessage& message) {
  MutexLock lock(&mu_);
  return stream_ != nullptr && stream_->Write(message);
}

std::optional<size_t> FakeMaster::WaitFor(
    const std::function<bool(const v1::WorkerMessage&)>& match, size_t from,
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  MutexLock lock(&mu_);
  for (size_t i = from;;) {
    for (; i < received_.size(); ++i) {
      if (match(received_[i])) return i;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    TsanReleasing(&mu_);  // The wait releases mu_ (common/mutex_lock.h).
    changed_.WaitWithDeadline(&mu_, deadline);
    TsanAcquired(&mu_);
  }
}

bool FakeMaster::WaitRejected(int count, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  MutexLock lock(&mu_);
  while (rejected_ < count) {
    if (absl::Now() >= deadline) return false;
    TsanReleasing(&mu_);
    changed_.WaitWithDeadline(&mu_, deadline);
    TsanAcquired(&mu_);
  }
  return true;
}

std::vector<v1::WorkerMessage> FakeMaster::received() const {
  MutexLock lock(&mu_);
  return received_;
}

}  // namespace hera::worker::testing
