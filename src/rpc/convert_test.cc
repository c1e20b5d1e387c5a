#include "rpc/convert.h"

#include "gtest/gtest.h"

namespace hera::rpc {
namespace {

TEST(ConvertTest, DispatchRoundTrips) {
  core::DispatchOrder order;
  order.run_id = 7;
  order.job_id = 3;
  order.action_id = 11;
  order.attempt = 2;
  order.trigger = core::Trigger::kSuperRecovery;
  order.type = core::JobType::kSparkSql;
  order.script = "select 1;\n";
  order.job_name = "daily_sales";
  order.job_version = 5;
  order.scheduled_time = absl::FromUnixSeconds(1700000000) + absl::Microseconds(12);
  order.timeout_s = 60;
  order.env = {{"HERA_RUN_ID", "7"}, {"A", "b=c"}};
  order.argv = {"spark-sql", "--conf", "a=b c", "-f", "script.sql"};
  order.script_name = "script.sql";

  v1::Dispatch wire = ToProto(order, 4);
  EXPECT_EQ(wire.term(), 4u);
  EXPECT_EQ(wire.job_type(), "spark_sql");
  EXPECT_EQ(wire.trigger(), "super_recovery");
  absl::StatusOr<core::DispatchOrder> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->run_id, 7);
  EXPECT_EQ(back->job_id, 3);
  EXPECT_EQ(back->action_id, 11);
  EXPECT_EQ(back->attempt, 2);
  EXPECT_EQ(back->trigger, core::Trigger::kSuperRecovery);
  EXPECT_EQ(back->type, core::JobType::kSparkSql);
  EXPECT_EQ(back->script, order.script);
  EXPECT_EQ(back->job_name, "daily_sales");
  EXPECT_EQ(back->job_version, 5);
  EXPECT_EQ(back->scheduled_time, order.scheduled_time);
  EXPECT_EQ(back->timeout_s, 60);
  EXPECT_EQ(back->env, order.env);
  EXPECT_EQ(back->argv, order.argv);
  EXPECT_EQ(back->script_name, "script.sql");
}

TEST(ConvertTest, DispatchWithUnknownNamesIsRefused) {
  core::DispatchOrder order;
  order.run_id = 1;
  v1::Dispatch wire = ToProto(order, 1);
  wire.set_job_type("cobol");
  absl::StatusOr<core::DispatchOrder> bad = FromProto(wire);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown job type 'cobol'"), std::string::npos);
  wire = ToProto(order, 1);
  wire.set_trigger("whenever");
  EXPECT_NE(FromProto(wire).status().message().find("unknown trigger 'whenever'"),
            std::string::npos);
  wire.set_run_id(0);
  EXPECT_FALSE(FromProto(wire).ok());
}

TEST(ConvertTest, ResultsRoundTrip) {
  core::RunResult exited;
  exited.run_id = 9;
  exited.exit_code = 3;
  exited.ended_at = absl::FromUnixMicros(1700000000123456);
  v1::RunFinished wire = ToProto(exited, 2, 4096);
  EXPECT_EQ(wire.log_bytes(), 4096);
  core::RunResult back = FromProto(wire);
  EXPECT_EQ(back.run_id, 9);
  EXPECT_EQ(back.exit_code, 3);
  EXPECT_FALSE(back.signal.has_value());
  EXPECT_EQ(back.ended_at, exited.ended_at);

  core::RunResult killed;
  killed.run_id = 10;
  killed.signal = 9;
  killed.cancelled = true;
  back = FromProto(ToProto(killed, 2, 0));
  EXPECT_FALSE(back.exit_code.has_value());
  EXPECT_EQ(back.signal, 9);
  EXPECT_TRUE(back.cancelled);

  core::RunResult failed;
  failed.run_id = 11;
  failed.error = "spawn failed";
  failed.timed_out = true;
  back = FromProto(ToProto(failed, 2, 0));
  EXPECT_EQ(back.error, "spawn failed");
  EXPECT_TRUE(back.timed_out);
}

TEST(ConvertTest, DownloadsTravelInScriptOrder) {
  core::DispatchOrder order;
  order.run_id = 5;
  order.downloads = {{"hera://lib.sh?version=2", "lib.sh"},
                     {"hdfs:///jars/udf.jar", "udf.jar"},
                     {"https://example.com/a.csv", "a.csv"}};
  const v1::Dispatch wire = ToProto(order, 1);
  ASSERT_EQ(wire.downloads_size(), 3);
  EXPECT_EQ(wire.downloads(1).uri(), "hdfs:///jars/udf.jar");
  EXPECT_EQ(wire.downloads(1).name(), "udf.jar");
  auto back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->downloads, order.downloads);
}

}  // namespace
}  // namespace hera::rpc
