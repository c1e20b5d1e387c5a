#include "worker/master_channel.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "worker/small_file.h"

namespace hera::worker {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MasterCredentials(
    const std::string& tls_ca_file) {
  if (tls_ca_file.empty()) return grpc::InsecureChannelCredentials();
  absl::StatusOr<std::optional<std::string>> pem = ReadSmallFile(tls_ca_file);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS CA file ", tls_ca_file, ": ", pem.status().message()));
  }
  if (!pem->has_value() || (*pem)->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS CA file ", tls_ca_file, (pem->has_value() ? " is empty" : " not found")));
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = **pem;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> MasterChannel(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  grpc::ChannelArguments args;
  // gRPC's default reconnect backoff grows to 120 s: a restarted master would wait that long
  // for workers whose own backoff stops at 5 s. (The agent also uses a new channel per attempt.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  // The master sends nothing on an idle stream, so only pings tell a dead connection from a
  // quiet one. The master must accept pings this often
  // (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS), or it answers with GOAWAY.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  return grpc::CreateCustomChannel(address, creds, args);
}

}  // namespace hera::worker
