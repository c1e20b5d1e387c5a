#include "rpc/convert.h"

#include "absl/strings/str_cat.h"

namespace hera::rpc {

// Times travel as microseconds since the Unix epoch.
v1::Dispatch ToProto(const core::DispatchOrder& order, uint64_t term) {
  v1::Dispatch d;
  d.set_run_id(order.run_id);
  d.set_term(term);
  d.set_job_id(order.job_id);
  d.set_action_id(order.action_id);
  d.set_attempt(order.attempt);
  d.set_trigger(core::Name(order.trigger));
  d.set_job_type(core::Name(order.type));
  d.set_job_name(order.job_name);
  d.set_job_version(order.job_version);
  d.set_script(order.script);
  for (const auto& [uri, name] : order.downloads) {
    v1::Download* download = d.add_downloads();
    download->set_uri(uri);
    download->set_name(name);
  }
  d.set_scheduled_time_unix_us(absl::ToUnixMicros(order.scheduled_time));
  d.set_timeout_s(order.timeout_s);
  for (const auto& [name, value] : order.env) {
    v1::EnvVar* var = d.add_env();
    var->set_name(name);
    var->set_value(value);
  }
  for (const std::string& arg : order.argv) d.add_argv(arg);
  d.set_script_name(order.script_name);
  for (const std::string& value : order.masked) d.add_masked(value);
  return d;
}

absl::StatusOr<core::DispatchOrder> FromProto(const v1::Dispatch& d) {
  if (d.run_id() <= 0) return absl::InvalidArgumentError("dispatch without a run id");
  std::optional<core::JobType> type = core::ParseJobType(d.job_type());
  if (!type) {
    return absl::InvalidArgumentError(
        absl::StrCat("dispatch of run ", d.run_id(), ": unknown job type '", d.job_type(), "'"));
  }
  std::optional<core::Trigger> trigger = core::ParseTrigger(d.trigger());
  if (!trigger) {
    return absl::InvalidArgumentError(
        absl::StrCat("dispatch of run ", d.run_id(), ": unknown trigger '", d.trigger(), "'"));
  }
  core::DispatchOrder order;
  order.run_id = d.run_id();
  order.job_id = d.job_id();
  order.action_id = d.action_id();
  order.attempt = d.attempt();
  order.trigger = *trigger;
  order.type = *type;
  order.script = d.script();
  for (const v1::Download& download : d.downloads()) {
    order.downloads.emplace_back(download.uri(), download.name());
  }
  order.job_name = d.job_name();
  order.job_version = d.job_version();
  order.scheduled_time = absl::FromUnixMicros(d.scheduled_time_unix_us());
  order.timeout_s = d.timeout_s();
  order.env.reserve(d.env_size());
  for (const v1::EnvVar& var : d.env()) order.env.emplace_back(var.name(), var.value());
  order.argv.assign(d.argv().begin(), d.argv().end());
  order.script_name = d.script_name();
  order.masked.assign(d.masked().begin(), d.masked().end());
  return order;
}

v1::RunFinished ToProto(const core::RunResult& result, uint64_t term, int64_t log_bytes) {
  v1::RunFinished f;
  f.set_run_id(result.run_id);
  f.set_term(term);
  f.set_has_exit_code(result.exit_code.has_value());
  f.set_exit_code(result.exit_code.value_or(0));
  f.set_signal(result.signal.value_or(0));
  f.set_timed_out(result.timed_out);
  f.set_cancelled(result.cancelled);
  f.set_error(result.error);
  f.set_lost(result.lost);
  f.set_ended_at_unix_us(absl::ToUnixMicros(result.ended_at));
  f.set_log_bytes(log_bytes);
  return f;
}

core::RunResult FromProto(const v1::RunFinished& f) {
  core::RunResult result;
  result.run_id = f.run_id();
  if (f.has_exit_code()) result.exit_code = f.exit_code();
  if (f.signal() != 0) result.signal = f.signal();
  result.timed_out = f.timed_out();
  result.cancelled = f.cancelled();
  result.error = f.error();
  result.lost = f.lost();
  result.ended_at = absl::FromUnixMicros(f.ended_at_unix_us());
  return result;
}

}  // namespace hera::rpc
