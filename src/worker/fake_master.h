#pragma once
// For tests: an in-process master that speaks the worker protocol on 127.0.0.1, records what
// the worker sends, and sends what the test tells it to.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "hera/v1/worker.grpc.pb.h"

namespace hera::worker::testing {

// Thread-safe. One worker stream at a time is what tests need; a newer stream replaces the
// stream Send() writes to.
class FakeMaster final : public v1::WorkerService::Service {
 public:
  // Serves on 127.0.0.1:`port` (0: any free port), expecting `token`. Returns nullptr (and
  // fails the test) if the port cannot be bound.
  // `credentials` null: plaintext.
  static std::unique_ptr<FakeMaster> Start(
      std::string token, int port = 0, v1::Registered registered = DefaultRegistered(),
      std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  ~FakeMaster() override { Shutdown(); }

  // term 1, heartbeats every 100 ms, lost after 60 s.
  static v1::Registered DefaultRegistered();

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Cancels every stream and stops serving. Idempotent.
  void Shutdown();
  void set_token(std::string token);

  // Writes `message` to the current registered stream; false if there is none.
  bool Send(const v1::MasterMessage& message);
  // Waits until a received message (in arrival order, from `from` on) satisfies `match`;
  // returns its index, or nullopt at the timeout.
  std::optional<size_t> WaitFor(const std::function<bool(const v1::WorkerMessage&)>& match,
                                size_t from = 0, absl::Duration timeout = absl::Seconds(20));
  // Waits until `count` streams have been refused for a bad token.
  bool WaitRejected(int count, absl::Duration timeout = absl::Seconds(20));
  std::vector<v1::WorkerMessage> received() const;

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::MasterMessage, v1::WorkerMessage>* stream) override;

 private:
  explicit FakeMaster(std::string token, v1::Registered registered)
      : registered_(std::move(registered)), token_(std::move(token)) {}
  void Record(const v1::WorkerMessage& message);

  const v1::Registered registered_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  // Protected by mu_
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  grpc::ServerReaderWriter<v1::MasterMessage, v1::WorkerMessage>* stream_ ABSL_GUARDED_BY(mu_) =
      nullptr;
  std::vector<v1::WorkerMessage> received_ ABSL_GUARDED_BY(mu_);
  int rejected_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace hera::worker::testing
