#pragma once
// Conversions between the protocol's messages (proto/hera/v1/worker.proto) and core's values.
// Pure functions; the only place that knows both shapes.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/ports.h"
#include "hera/v1/worker.pb.h"

namespace hera::rpc {

// The Dispatch message for `order`, stamped with the master's `term`.
v1::Dispatch ToProto(const core::DispatchOrder& order, uint64_t term);
// The order a Dispatch carries; InvalidArgument naming the field for an unknown job type or
// trigger, or a missing run id.
absl::StatusOr<core::DispatchOrder> FromProto(const v1::Dispatch& dispatch);

// The RunFinished message for `result`, of a run dispatched under `term`, whose log ended at
// `log_bytes`.
v1::RunFinished ToProto(const core::RunResult& result, uint64_t term, int64_t log_bytes);
// The result a RunFinished carries.
core::RunResult FromProto(const v1::RunFinished& finished);

}  // namespace hera::rpc
