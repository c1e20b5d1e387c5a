#pragma once
// The gRPC channels a worker agent reaches its masters through (DESIGN §6: TLS optional).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"

namespace hera::worker {

// TLS trusting the PEM certificates in `tls_ca_file`; plaintext if it is empty. InvalidArgument
// if the file cannot be read or is empty.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MasterCredentials(
    const std::string& tls_ca_file);

// A channel to `address` ("host:port"). Its own reconnect backoff is capped at 5 s, like the
// agent's, and it pings the master every 10 s so a master that vanished without closing the
// connection (power loss, network partition) ends the stream within ~15 s.
std::shared_ptr<grpc::Channel> MasterChannel(const std::string& address,
                                             const std::shared_ptr<grpc::ChannelCredentials>& creds);

}  // namespace hera::worker
