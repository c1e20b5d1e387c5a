// WorkerAgent against an in-process fake master: registration, dispatch, logs, results kept
// until acknowledged, stale terms, tokens, reconnects, cancel, abandon and self-fencing.
#include "worker/agent.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "exec/proc_stat.h"
#include "exec/run_ledger.h"
#include "exec/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker/fake_master.h"

namespace hera::worker {
namespace {

using ::hera::exec::testing::TempDir;
using ::hera::worker::testing::FakeMaster;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kToken[] = "s3cret";

v1::MasterMessage Dispatch(int64_t run_id, std::string script, uint64_t term = 1,
                           std::string job_type = "shell") {
  v1::MasterMessage message;
  v1::Dispatch* d = message.mutable_dispatch();
  d->set_run_id(run_id);
  d->set_term(term);
  d->set_job_id(10);
  d->set_action_id(20);
  d->set_attempt(1);
  d->set_trigger("manual");
  d->set_job_type(std::move(job_type));
  d->set_job_name("job");
  d->set_script(std::move(script));
  return message;
}

v1::MasterMessage Cancel(int64_t run_id) {
  v1::MasterMessage message;
  message.mutable_cancel()->set_run_id(run_id);
  return message;
}

v1::MasterMessage Ack(std::vector<int64_t> run_ids) {
  v1::MasterMessage message;
  for (int64_t id : run_ids) message.mutable_ack()->add_run_ids(id);
  return message;
}

auto IsRegister() {
  return [](const v1::WorkerMessage& m) { return m.has_register_(); };
}
auto IsHeartbeat() {
  return [](const v1::WorkerMessage& m) { return m.has_heartbeat(); };
}
auto IsStarted(int64_t run) {
  return [run](const v1::WorkerMessage& m) { return m.has_started() && m.started().run_id() == run; };
}
auto IsFinished(int64_t run) {
  return [run](const v1::WorkerMessage& m) {
    return m.has_finished() && m.finished().run_id() == run;
  };
}
auto IsRefused(int64_t run) {
  return [run](const v1::WorkerMessage& m) { return m.has_refused() && m.refused().run_id() == run; };
}

// The run's log as the master assembled it from LogChunks, checking that they are contiguous
// (the master's log store refuses a gap).
std::string LogOf(const std::vector<v1::WorkerMessage>& messages, int64_t run,
                  int64_t master_had = 0) {
  std::string log(static_cast<size_t>(master_had), '?');
  for (const v1::WorkerMessage& m : messages) {
    if (!m.has_log() || m.log().run_id() != run) continue;
    const int64_t offset = m.log().offset();
    EXPECT_LE(offset, static_cast<int64_t>(log.size())) << "gap in the log of run " << run;
    if (offset > static_cast<int64_t>(log.size())) continue;
    log.resize(static_cast<size_t>(offset));
    log += m.log().data();
  }
  return log;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_ = FakeMaster::Start(kToken);
    ASSERT_NE(master_, nullptr);
  }
  void TearDown() override {
    StopAgent();
    if (master_) master_->Shutdown();
  }

  AgentOptions Options() {
    AgentOptions options;
    options.masters = {master_->address()};
    options.host_groups = {"etl", "default"};
    options.slots = 2;
    options.data_dir = tmp_.Sub("worker");
    options.token = kToken;
    options.id = "w1";
    options.kill_grace = absl::Seconds(1);
    return options;
  }
  void StartAgent(AgentOptions options) {
    absl::StatusOr<std::unique_ptr<WorkerAgent>> agent = WorkerAgent::Create(options, &clock_);
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    thread_ = std::thread([this] { EXPECT_TRUE(agent_->Run().ok()); });
  }
  void StartAgent() { StartAgent(Options()); }
  void StopAgent() {
    if (!agent_) return;
    agent_->Stop();
    thread_.join();
    agent_.reset();
  }
  // Stops the master and starts a new one on the same port, as a restarted master.
  void RestartMaster(v1::Registered registered = FakeMaster::DefaultRegistered()) {
    const int port = master_->port();
    master_->Shutdown();
    master_ = FakeMaster::Start(kToken, port, std::move(registered));
    ASSERT_NE(master_, nullptr);
  }
  // Waits until the master has `match`; returns the message.
  v1::WorkerMessage Expect(const std::function<bool(const v1::WorkerMessage&)>& match,
                           size_t from = 0) {
    std::optional<size_t> at = master_->WaitFor(match, from);
    EXPECT_TRUE(at.has_value()) << "expected message not received";
    return at ? master_->received()[*at] : v1::WorkerMessage();
  }
  // Waits until the worker has caught up after registering: it heartbeats only after it has
  // re-sent everything.
  void WaitCaughtUp() { Expect(IsHeartbeat()); }

  TempDir tmp_;
  RealClock clock_;
  std::unique_ptr<FakeMaster> master_;
  std::unique_ptr<WorkerAgent> agent_;
  std::thread thread_;
};

TEST_F(AgentTest, RegistersRunsADispatchAndStreamsItsLog) {
  StartAgent();
  v1::WorkerMessage reg = Expect(IsRegister());
  EXPECT_EQ(reg.register_().worker_id(), "w1");
  EXPECT_THAT(reg.register_().host_groups(), ElementsAre("etl", "default"));
  EXPECT_EQ(reg.register_().slots(), 2);
  EXPECT_EQ(reg.register_().version(), "0.1.0");
  EXPECT_EQ(reg.register_().runs_size(), 0);
  EXPECT_FALSE(reg.register_().host().empty());
  WaitCaughtUp();

  ASSERT_TRUE(master_->Send(Dispatch(1, "echo hi\n")));
  v1::WorkerMessage started = Expect(IsStarted(1));
  EXPECT_GT(started.started().pid(), 0);
  v1::WorkerMessage finished = Expect(IsFinished(1));
  EXPECT_TRUE(finished.finished().has_exit_code());
  EXPECT_EQ(finished.finished().exit_code(), 0);
  EXPECT_EQ(finished.finished().term(), 1u);
  EXPECT_EQ(finished.finished().log_bytes(), 3);
  EXPECT_FALSE(finished.finished().cancelled());

  // The log came before the result, as one chunk "hi\n" at offset 0.
  std::vector<v1::WorkerMessage> got = master_->received();
  std::vector<std::pair<int64_t, std::string>> chunks;
  for (const v1::WorkerMessage& m : got) {
    if (IsFinished(1)(m)) break;
    if (m.has_log()) chunks.emplace_back(m.log().offset(), m.log().data());
  }
  EXPECT_THAT(chunks, ElementsAre(std::make_pair(int64_t{0}, std::string("hi\n"))));

  // Heartbeats carry metrics.
  v1::WorkerMessage heartbeat = Expect(IsHeartbeat());
  EXPECT_GT(heartbeat.heartbeat().metrics().memory_total_bytes(), 0);
  EXPECT_GT(heartbeat.heartbeat().metrics().cpus(), 0);
}

TEST_F(AgentTest, ResultsStayInTheOutboxUntilAcknowledged) {
  StartAgent();
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(1, "echo one\n")));
  ASSERT_TRUE(master_->Send(Dispatch(2, "echo two\n")));
  Expect(IsFinished(1));
  Expect(IsFinished(2));
  ASSERT_TRUE(master_->Send(Ack({1})));
  // Orders are handled in stream order: once run 3 is reported, the ack has been applied.
  ASSERT_TRUE(master_->Send(Dispatch(3, "true\n")));
  Expect(IsFinished(3));

  RestartMaster();
  v1::WorkerMessage reg = Expect(IsRegister());
  std::vector<int64_t> held;
  for (const v1::HeldRun& run : reg.register_().runs()) {
    held.push_back(run.run_id());
    EXPECT_TRUE(run.started());
    if (run.run_id() == 2) {
      EXPECT_EQ(run.log_bytes(), 4);
    }
  }
  EXPECT_THAT(held, UnorderedElementsAre(2, 3));
  Expect(IsFinished(2));
  Expect(IsFinished(3));
  WaitCaughtUp();
  EXPECT_FALSE(master_->WaitFor(IsFinished(1), 0, absl::ZeroDuration()).has_value())
      << "an acknowledged result was sent again";
  // The master had no log bytes of run 2: it gets the whole log again, before the result.
  EXPECT_EQ(LogOf(master_->received(), 2), "two\n");
}

TEST_F(AgentTest, RegistrationCarriesHeldRunsAndResendsMissingLogBytes) {
  StartAgent();
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(5, "echo start; exec sleep 60\n")));
  Expect([](const v1::WorkerMessage& m) { return m.has_log() && m.log().run_id() == 5; });

  v1::Registered registered = FakeMaster::DefaultRegistered();
  registered.set_term(2);
  v1::HeldRun* had = registered.add_master_log_bytes();
  had->set_run_id(5);
  had->set_log_bytes(2);
  RestartMaster(registered);
  v1::WorkerMessage reg = Expect(IsRegister());
  ASSERT_EQ(reg.register_().runs_size(), 1);
  EXPECT_EQ(reg.register_().runs(0).run_id(), 5);
  EXPECT_TRUE(reg.register_().runs(0).started());
  EXPECT_EQ(reg.register_().runs(0).log_bytes(), 6);
  EXPECT_EQ(reg.register_().max_term_seen(), 1u);
  WaitCaughtUp();
  // Only the bytes the master lacked, from offset 2.
  EXPECT_EQ(LogOf(master_->received(), 5, 2), "??art\n");
  for (const v1::WorkerMessage& m : master_->received()) {
    if (m.has_log()) {
      EXPECT_GE(m.log().offset(), 2);
    }
    EXPECT_FALSE(IsStarted(5)(m)) << "Register already said run 5 started";
  }
  v1::WorkerMessage heartbeat = Expect(IsHeartbeat());
  EXPECT_THAT(heartbeat.heartbeat().running_run_ids(), ElementsAre(5));
  ASSERT_TRUE(master_->Send(Cancel(5)));
  EXPECT_TRUE(Expect(IsFinished(5)).finished().cancelled());
}

TEST_F(AgentTest, RefusesStaleTermsAndBadDispatches) {
  v1::Registered registered = FakeMaster::DefaultRegistered();
  registered.set_term(5);
  master_->Shutdown();
  master_ = FakeMaster::Start(kToken, 0, registered);
  StartAgent();
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(1, "echo no\n", /*term=*/3)));
  EXPECT_EQ(Expect(IsRefused(1)).refused().reason(), "stale master term 3 < 5");
  ASSERT_TRUE(master_->Send(Dispatch(2, "echo no\n", 5, "cobol")));
  EXPECT_THAT(Expect(IsRefused(2)).refused().reason(), ::testing::HasSubstr("unknown job type"));
  ASSERT_TRUE(master_->Send(Dispatch(3, "echo yes\n", 7)));
  EXPECT_EQ(Expect(IsFinished(3)).finished().term(), 7u);
  for (const v1::WorkerMessage& m : master_->received()) {
    EXPECT_FALSE(IsStarted(1)(m) || IsStarted(2)(m)) << "a refused run started";
  }
  // The highest term is kept across restarts.
  std::ifstream term(Options().data_dir + "/term");
  uint64_t stored = 0;
  term >> stored;
  EXPECT_EQ(stored, 7u);
}

TEST_F(AgentTest, WrongTokenIsReportedAndRetried) {
  master_->set_token("another token");
  StartAgent();
  ASSERT_TRUE(master_->WaitRejected(2));  // It did not give up (nor crash) after the first.
  master_->set_token(kToken);
  Expect(IsRegister());
}

TEST_F(AgentTest, CancelKillsTheRun) {
  StartAgent();
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(1, "echo up; exec sleep 60\n")));
  const pid_t pid = Expect(IsStarted(1)).started().pid();
  Expect([](const v1::WorkerMessage& m) { return m.has_log(); });
  ASSERT_TRUE(master_->Send(Cancel(1)));
  v1::WorkerMessage finished = Expect(IsFinished(1));
  EXPECT_TRUE(finished.finished().cancelled());
  EXPECT_EQ(finished.finished().signal(), SIGTERM);
  EXPECT_NE(::kill(pid, 0), 0) << "the run's process is still alive";
}

TEST_F(AgentTest, AbandonedRunsAreKilledAndNeverReported) {
  StartAgent();
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(1, "exec sleep 60\n")));
  ASSERT_TRUE(master_->Send(Dispatch(2, "echo done\n")));
  const pid_t pid = Expect(IsStarted(1)).started().pid();
  Expect(IsFinished(2));

  v1::Registered registered = FakeMaster::DefaultRegistered();
  registered.add_abandon_run_ids(1);
  registered.add_abandon_run_ids(2);
  RestartMaster(registered);
  Expect(IsRegister());
  WaitCaughtUp();
  // Run 1 ends (killed); then run 3 is a sync point: had the worker reported run 1 or 2, the
  // master would have had it before run 3's result.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (::kill(pid, 0) == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_NE(::kill(pid, 0), 0) << "the abandoned run still runs";
  ASSERT_TRUE(master_->Send(Dispatch(3, "true\n")));
  Expect(IsFinished(3));
  for (const v1::WorkerMessage& m : master_->received()) {
    EXPECT_FALSE(IsFinished(1)(m) || IsFinished(2)(m)) << m.DebugString();
  }
  // Nor after another reconnect: their results left the outbox.
  RestartMaster();
  const v1::WorkerMessage reg = Expect(IsRegister());
  std::vector<int64_t> held;
  for (const v1::HeldRun& run : reg.register_().runs()) held.push_back(run.run_id());
  EXPECT_THAT(held, ElementsAre(3));
}

TEST_F(AgentTest, FencesItselfWhenTheMasterStaysAway) {
  v1::Registered registered = FakeMaster::DefaultRegistered();
  registered.set_lost_after_ms(300);
  master_->Shutdown();
  master_ = FakeMaster::Start(kToken, 0, registered);
  StartAgent();
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(1, "exec sleep 60\n")));
  const pid_t pid = Expect(IsStarted(1)).started().pid();
  const int port = master_->port();
  master_->Shutdown();
  // lost_after_ms later the worker kills the run, though no master told it to.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (::kill(pid, 0) == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_NE(::kill(pid, 0), 0) << "the run still runs while the master has retried it elsewhere";
  master_ = FakeMaster::Start(kToken, port);
  ASSERT_NE(master_, nullptr);
  // Not a cancel: the master retries a run its worker killed this way.
  const v1::WorkerMessage finished = Expect(IsFinished(1));
  EXPECT_FALSE(finished.finished().cancelled()) << finished.DebugString();
  EXPECT_THAT(finished.finished().error(), ::testing::HasSubstr("cut off from the master"));
}

TEST_F(AgentTest, ReconnectsAfterTheMasterRestartsAndResendsTheResult) {
  StartAgent();
  WaitCaughtUp();
  const int port = master_->port();
  master_->Shutdown();
  // A run that ends while no master listens is reported after the reconnect.
  master_ = FakeMaster::Start(kToken, port);
  ASSERT_NE(master_, nullptr);
  Expect(IsRegister());
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(4, "echo x\n")));
  Expect(IsFinished(4));
  RestartMaster();
  Expect(IsRegister());
  v1::WorkerMessage finished = Expect(IsFinished(4));
  EXPECT_EQ(finished.finished().exit_code(), 0);
  EXPECT_EQ(LogOf(master_->received(), 4), "x\n");
}

TEST_F(AgentTest, RunsKilledByAStopAreReportedLostNotCancelled) {
  StartAgent();
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(1, "exec sleep 60\n")));
  Expect(IsStarted(1));
  StopAgent();  // The run is killed; its result waits in the outbox for the next start.
  StartAgent();
  // A stopped worker is no user's cancel: the master must retry the run.
  const v1::WorkerMessage finished = Expect(IsFinished(1));
  EXPECT_FALSE(finished.finished().cancelled()) << finished.DebugString();
  EXPECT_THAT(finished.finished().error(), ::testing::HasSubstr("was stopped"));
}

TEST_F(AgentTest, CancelAlsoKillsTheExternalJobsTheLogAnnounced) {
  // A stand-in for `yarn`, which records what it was asked to kill.
  const std::string yarn = tmp_.Sub("fake-yarn");
  const std::string killed = tmp_.Sub("killed.txt");
  std::ofstream(yarn) << "#!/bin/sh\necho \"$@\" >> " << killed << "\n";
  ASSERT_EQ(::chmod(yarn.c_str(), 0755), 0);
  AgentOptions options = Options();
  options.kill_commands.yarn = yarn + " application -kill";
  StartAgent(options);
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(
      Dispatch(1, "echo Submitted application application_1700000000000_42; exec sleep 60\n")));
  Expect([](const v1::WorkerMessage& m) { return m.has_log(); });
  ASSERT_TRUE(master_->Send(Cancel(1)));
  EXPECT_TRUE(Expect(IsFinished(1)).finished().cancelled());
  std::string line;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (line.empty() && absl::Now() < deadline) {
    std::ifstream in(killed);
    std::getline(in, line);
    if (line.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(line, "application -kill application_1700000000000_42");
}

TEST_F(AgentTest, ConnectsOverTls) {
  const std::string cert = tmp_.Sub("cert.pem");
  const std::string key = tmp_.Sub("key.pem");
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert +
      " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "no openssl to make a certificate";
  auto read = [](const std::string& path) {
    std::stringstream text;
    text << std::ifstream(path).rdbuf();
    return text.str();
  };
  grpc::SslServerCredentialsOptions tls;
  tls.pem_key_cert_pairs.push_back({read(key), read(cert)});
  master_->Shutdown();
  master_ = FakeMaster::Start(kToken, 0, FakeMaster::DefaultRegistered(),
                              grpc::SslServerCredentials(tls));
  ASSERT_NE(master_, nullptr);
  AgentOptions options = Options();
  options.tls_ca_file = cert;
  StartAgent(options);
  WaitCaughtUp();
  ASSERT_TRUE(master_->Send(Dispatch(1, "echo secret\n")));
  EXPECT_EQ(Expect(IsFinished(1)).finished().exit_code(), 0);
}

TEST_F(AgentTest, ARestartKillsAndReportsWhatACrashedPredecessorLeftRunning) {
  // A job process of a worker that was killed -9, as its ledger recorded it.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setpgid(0, 0);
    ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(child, child);  // Also here: no race with the exec.
  std::optional<exec::ProcStat> stat;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {  // Until it runs `sleep` (the ledger records the leader).
    stat = exec::ReadProcStat(child);
    std::ifstream comm("/proc/" + std::to_string(child) + "/comm");
    std::string name;
    comm >> name;
    if (stat && stat->pgrp == child && name == "sleep") break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(stat.has_value());
  exec::LedgerRecord record;
  record.run_id = 77;
  record.pid = child;
  record.pgid = child;
  record.start_time = stat->start_time;
  std::filesystem::create_directories(Options().data_dir + "/ledger");
  std::ofstream(Options().data_dir + "/ledger/ledger.log")
      << "+" << exec::FormatLedgerRecord(record) << "\n";

  StartAgent();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_THAT(agent_->leftovers(), ElementsAre(77));
  const v1::WorkerMessage reg = Expect(IsRegister());
  ASSERT_EQ(reg.register_().runs_size(), 1);
  EXPECT_EQ(reg.register_().runs(0).run_id(), 77);
  EXPECT_TRUE(reg.register_().runs(0).started());
  const v1::WorkerMessage finished = Expect(IsFinished(77));
  // It had started: lost (the master retries it), not "could not start".
  EXPECT_EQ(finished.finished().lost(), "worker restarted: the run's processes were killed");
  EXPECT_EQ(finished.finished().error(), "");
  EXPECT_EQ(finished.finished().signal(), SIGKILL);
  EXPECT_EQ(finished.finished().term(), 0u);
}

TEST_F(AgentTest, ASecondWorkerOnTheSameDataDirIsRefused) {
  StartAgent();
  absl::StatusOr<std::unique_ptr<WorkerAgent>> second = WorkerAgent::Create(Options(), &clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), ::testing::HasSubstr("data directory"));
}

TEST_F(AgentTest, GeneratesAndKeepsItsId) {
  AgentOptions options = Options();
  options.id.clear();
  StartAgent(options);
  const std::string id = Expect(IsRegister()).register_().worker_id();
  EXPECT_EQ(id, agent_->id());
  EXPECT_THAT(id, ::testing::MatchesRegex(".+-[0-9a-f]{6}"));
  StopAgent();
  StartAgent(options);
  EXPECT_EQ(agent_->id(), id);
}

TEST_F(AgentTest, RejectsBadOptions) {
  AgentOptions options = Options();
  options.masters.clear();
  EXPECT_EQ(WorkerAgent::Create(options, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.token.clear();
  EXPECT_EQ(WorkerAgent::Create(options, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.tls_ca_file = tmp_.Sub("missing.pem");
  EXPECT_EQ(WorkerAgent::Create(options, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hera::worker
