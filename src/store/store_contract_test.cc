// The Store contract suite; see store_contract.h for how a backend runs it.

// The tests build WriteBatch, filters and records with C++20 designated initializers, naming
// only the fields that matter; GCC 12 still warns that the rest are "missing".
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time_format.h"
#include "core/model.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/mutex_lock.h"
#include "store/store_contract.h"

#include "core/json_codec.h"

namespace hera::store {

std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

void StoreContractTest::SetUp() {
  db_ = GetParam().create();
  ASSERT_NE(db_, nullptr);
  auto store = db_->Open();
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
}

void StoreContractTest::TearDown() {
  store_.reset();
  db_.reset();
}

void StoreContractTest::Reopen() {
  store_.reset();
  auto store = db_->Open();
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
}

namespace {

using core::Action;
using core::ActionStatus;
using core::Backfill;
using core::BackfillNode;
using core::BackfillStatus;
using core::Group;
using core::Job;
using core::JobId;
using core::JobRevision;
using core::NodeState;
using core::RunStatus;
using core::WriteBatch;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Instants with microsecond precision, the precision stores keep.
absl::Time T(int64_t seconds, int64_t micros = 0) {
  return absl::FromUnixMicros(1'700'000'000'000'000 + seconds * 1'000'000 + micros);
}

Group MakeGroup(core::GroupId id, std::string name, std::optional<core::GroupId> parent = {}) {
  Group g;
  g.id = id;
  g.parent_id = parent;
  g.name = std::move(name);
  return g;
}

Job MakeJob(core::JobId id, core::GroupId group, std::string name) {
  Job j;
  j.id = id;
  j.group_id = group;
  j.name = std::move(name);
  return j;
}

Action MakeAction(core::ActionId id, core::JobId job, absl::Time at,
                  ActionStatus status = ActionStatus::kPending) {
  Action a;
  a.id = id;
  a.job_id = job;
  a.scheduled_time = at;
  a.status = status;
  return a;
}

core::Run MakeRun(core::RunId id, core::JobId job, core::ActionId action,
            RunStatus status = RunStatus::kQueued, absl::Time queued = T(0)) {
  core::Run r;
  r.id = id;
  r.job_id = job;
  r.action_id = action;
  r.status = status;
  r.queued_at = queued;
  return r;
}

void ExpectSame(const Group& want, const Group& got) {
  SCOPED_TRACE(absl::StrCat("group ", want.id));
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.parent_id, want.parent_id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.configs, want.configs);
  EXPECT_EQ(got.owner, want.owner);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
}

void ExpectSame(const Job& want, const Job& got) {
  SCOPED_TRACE(absl::StrCat("job ", want.id));
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.group_id, want.group_id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(core::Name(got.type), core::Name(want.type));
  EXPECT_EQ(got.script, want.script);
  EXPECT_EQ(got.schedule.cron, want.schedule.cron);
  EXPECT_EQ(got.schedule.timezone, want.schedule.timezone);
  ASSERT_EQ(got.schedule.depends_on.size(), want.schedule.depends_on.size());
  for (size_t i = 0; i < want.schedule.depends_on.size(); ++i) {
    EXPECT_EQ(got.schedule.depends_on[i].job_id, want.schedule.depends_on[i].job_id);
    EXPECT_EQ(core::Name(got.schedule.depends_on[i].period),
              core::Name(want.schedule.depends_on[i].period));
  }
  EXPECT_EQ(got.schedule.self_dependency, want.schedule.self_dependency);
  EXPECT_EQ(got.enabled, want.enabled);
  EXPECT_EQ(got.retry.count, want.retry.count);
  EXPECT_EQ(got.retry.interval_s, want.retry.interval_s);
  EXPECT_EQ(got.timeout_s, want.timeout_s);
  EXPECT_EQ(got.host_group, want.host_group);
  EXPECT_EQ(got.configs, want.configs);
  EXPECT_EQ(core::Name(got.priority), core::Name(want.priority));
  EXPECT_EQ(got.allow_concurrent, want.allow_concurrent);
  EXPECT_EQ(core::Name(got.missed), core::Name(want.missed));
  EXPECT_EQ(got.owner, want.owner);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
}

void ExpectSame(const JobRevision& want, const JobRevision& got) {
  SCOPED_TRACE(absl::StrCat("revision ", want.job_id, "/", want.version));
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.author, want.author);
  EXPECT_EQ(got.saved_at, want.saved_at);
  EXPECT_EQ(got.definition_json, want.definition_json);
  EXPECT_EQ(got.changed_fields, want.changed_fields);
}

void ExpectSame(const Action& want, const Action& got) {
  SCOPED_TRACE(absl::StrCat("action ", want.id));
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.scheduled_time, want.scheduled_time);
  EXPECT_EQ(core::Name(got.status), core::Name(want.status));
  EXPECT_EQ(got.job_version, want.job_version);
  EXPECT_EQ(got.upstream, want.upstream);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
  EXPECT_EQ(got.manual, want.manual);
}

void ExpectSame(const core::Run& want, const core::Run& got) {
  SCOPED_TRACE(absl::StrCat("run ", want.id));
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.action_id, want.action_id);
  EXPECT_EQ(core::Name(got.trigger), core::Name(want.trigger));
  EXPECT_EQ(core::Name(got.status), core::Name(want.status));
  EXPECT_EQ(got.attempt, want.attempt);
  EXPECT_EQ(got.job_version, want.job_version);
  EXPECT_EQ(got.worker, want.worker);
  EXPECT_EQ(got.created_by, want.created_by);
  EXPECT_EQ(got.queued_at, want.queued_at);
  EXPECT_EQ(got.started_at, want.started_at);
  EXPECT_EQ(got.ended_at, want.ended_at);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.signal, want.signal);
  EXPECT_EQ(got.message, want.message);
}

template <typename T>
std::vector<int64_t> Ids(const std::vector<T>& rows) {
  std::vector<int64_t> ids;
  for (const T& row : rows) ids.push_back(row.id);
  return ids;
}

// A job with every editable field away from its default.
Job FullJob(core::JobId id, core::GroupId group) {
  Job j = MakeJob(id, group, "日报_sales 📊 \"quoted\"");
  j.description = "daily sales\nsecond line";
  j.type = core::JobType::kSparkSql;
  j.script = "SELECT '${yyyymmdd}' AS day; -- ünïcødé\n\tINSERT INTO t VALUES (1);";
  j.schedule.cron = "0 30 2 * * ?";
  j.schedule.timezone = "Asia/Shanghai";
  j.schedule.depends_on = {{7, core::DependencyPeriod::kAllOfDay},
                           {3, core::DependencyPeriod::kPreviousDay}};
  j.schedule.self_dependency = true;
  j.enabled = true;
  j.retry = {3, 120};
  j.timeout_s = 7200;
  j.host_group = "spark-cluster";
  j.configs = {{"queue", "etl"}, {"队列", "夜间"}, {"empty", ""}};
  j.priority = core::Priority::kHigh;
  j.allow_concurrent = false;
  j.missed = core::MissedPolicy::kSkip;
  j.owner = "张三";
  j.version = 7;
  j.created_at = T(-86400, 1);
  j.updated_at = T(12, 345678);
  return j;
}

// A group and a job, the parents most tests need.
WriteBatch BaseBatch() {
  WriteBatch b;
  b.groups.push_back(MakeGroup(1, "root"));
  b.jobs.push_back(MakeJob(1, 1, "job1"));
  b.jobs.push_back(MakeJob(2, 1, "job2"));
  return b;
}

TEST_P(StoreContractTest, EmptyStore) {
  EXPECT_TRUE(store().Commit(WriteBatch{}).ok());
  auto ids = store().LoadMaxIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->group, 0);
  EXPECT_EQ(ids->job, 0);
  EXPECT_EQ(ids->action, 0);
  EXPECT_EQ(ids->run, 0);
  EXPECT_THAT(*store().ListGroups(), IsEmpty());
  EXPECT_THAT(*store().ListAllJobs(), IsEmpty());
  EXPECT_THAT(*store().ListUnfinishedActions(absl::InfiniteFuture()), IsEmpty());
  EXPECT_THAT(*store().ListUnfinishedRuns(), IsEmpty());
  EXPECT_EQ(*store().CountUsers(), 0);
}

TEST_P(StoreContractTest, HostGroupsAreAddedOnceAndListedByName) {
  EXPECT_THAT(*store().ListHostGroups(), IsEmpty());
  const absl::Time now = absl::FromUnixSeconds(1790000000);
  ASSERT_TRUE(store().AddHostGroups({"spark", "default"}, now).ok());
  ASSERT_TRUE(store().AddHostGroups({"default", "gpu"}, now).ok());
  EXPECT_EQ(*store().ListHostGroups(), (std::vector<std::string>{"default", "gpu", "spark"}));
}

TEST_P(StoreContractTest, BackfillsRoundTripWithTheirNodesAndChangeANodeAtATime) {
  const absl::Time t = absl::FromUnixSeconds(1790000000);
  Backfill b;
  b.id = 3;
  b.job_ids = {7, 9};
  b.from = t;
  b.to = t + absl::Hours(48);
  b.downstream = true;
  b.parallelism = 4;
  b.newest_first = true;
  b.skip_succeeded = true;
  b.created_by = "alice";
  b.created_at = b.updated_at = t;
  WriteBatch first;
  first.backfills.push_back(b);
  first.backfill_nodes.push_back({3, 0, BackfillNode{7, t, 11, {}, NodeState::kPending}});
  first.backfill_nodes.push_back({3, 1, BackfillNode{9, t, 0, {0}, NodeState::kPending}});
  ASSERT_TRUE(store().Commit(first).ok());
  WriteBatch second;
  b.status = BackfillStatus::kStopped;
  second.backfills.push_back(b);
  second.backfill_nodes.push_back({3, 1, BackfillNode{9, t, 12, {0}, NodeState::kSuccess}});
  ASSERT_TRUE(store().Commit(second).ok());
  auto got = store().GetBackfill(3);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->job_ids, (std::vector<JobId>{7, 9}));
  EXPECT_EQ(got->to, t + absl::Hours(48));
  EXPECT_TRUE(got->downstream && got->newest_first && got->skip_succeeded);
  EXPECT_EQ(got->parallelism, 4);
  EXPECT_EQ(got->status, BackfillStatus::kStopped);
  ASSERT_EQ(got->nodes.size(), 2u);
  EXPECT_EQ(got->nodes[0].action_id, 11);
  EXPECT_EQ(got->nodes[1].action_id, 12);
  EXPECT_EQ(got->nodes[1].state, NodeState::kSuccess);
  EXPECT_EQ(got->nodes[1].upstream, std::vector<int>{0});
  EXPECT_EQ(got->nodes[1].time, t);
  EXPECT_THAT(*store().ListUnfinishedBackfills(), IsEmpty());
  EXPECT_EQ(store().ListBackfills(10)->size(), 1u);
  EXPECT_EQ(store().LoadMaxIds()->backfill, 3);
  EXPECT_EQ(store().GetBackfill(4).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, GroupRoundTripsEveryField) {
  Group root = MakeGroup(1, "数据仓库 🏭");
  root.description = "top level";
  root.configs = {{"owner.email", "dw@example.com"}, {"键", "值 ✓"}};
  root.owner = "alice";
  root.version = 3;
  root.created_at = T(1, 1);
  root.updated_at = T(2, 999999);
  Group child = MakeGroup(2, "ods", 1);
  WriteBatch b;
  b.groups = {child, root};  // a child before its parent in one batch is fine
  ASSERT_TRUE(store().Commit(b).ok());

  ExpectSame(root, *store().GetGroup(1));
  ExpectSame(child, *store().GetGroup(2));
  auto all = store().ListGroups();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  ExpectSame(root, (*all)[0]);
  ExpectSame(child, (*all)[1]);

  // An upsert replaces the whole row, including clearing fields.
  Group moved = MakeGroup(2, "ods2");
  moved.version = 2;
  ASSERT_TRUE(store().Commit(WriteBatch{.groups = {moved}}).ok());
  ExpectSame(moved, *store().GetGroup(2));
  EXPECT_EQ(store().GetGroup(3).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, GroupNamesAreUniquePerParentIncludingTopLevel) {
  ASSERT_TRUE(store().Commit(WriteBatch{.groups = {MakeGroup(1, "a"), MakeGroup(2, "b"),
                                                   MakeGroup(3, "x", 1), MakeGroup(4, "x", 2)}})
                  .ok());
  EXPECT_EQ(store().Commit(WriteBatch{.groups = {MakeGroup(5, "a")}}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store().Commit(WriteBatch{.groups = {MakeGroup(6, "x", 1)}}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store().ListGroups()->size(), 4u);
}

TEST_P(StoreContractTest, JobRoundTripsEveryField) {
  WriteBatch b;
  b.groups = {MakeGroup(1, "g1"), MakeGroup(2, "g2")};
  Job full = FullJob(5, 2);
  Job plain = MakeJob(6, 1, "plain");  // every default
  b.jobs = {full, plain};
  ASSERT_TRUE(store().Commit(b).ok());
  ExpectSame(full, *store().GetJob(5));
  ExpectSame(plain, *store().GetJob(6));

  auto all = store().ListAllJobs();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Ids(*all), ElementsAre(5, 6));

  Job edited = full;
  edited.name = "renamed";
  edited.group_id = 1;
  edited.enabled = false;
  edited.schedule.depends_on.clear();
  edited.configs.clear();
  edited.version = 8;
  ASSERT_TRUE(store().Commit(WriteBatch{.jobs = {edited}}).ok());
  ExpectSame(edited, *store().GetJob(5));
  EXPECT_EQ(store().GetJob(99).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, RevisionsRoundTripNewestFirst) {
  WriteBatch b = BaseBatch();
  JobRevision r1{.job_id = 1, .version = 1, .author = "alice", .saved_at = T(1),
                 .definition_json = R"({"name":"job1","script":"echo 1"})", .changed_fields = {}};
  JobRevision r2{.job_id = 1, .version = 2, .author = "鲍勃", .saved_at = T(2, 5),
                 .definition_json = R"({"name":"job1","script":"echo 2 ✓"})",
                 .changed_fields = {"script", "schedule.cron"}};
  JobRevision other{.job_id = 2, .version = 1, .author = "carol", .saved_at = T(3),
                    .definition_json = "{}", .changed_fields = {}};
  b.revisions = {r2, r1, other};
  ASSERT_TRUE(store().Commit(b).ok());

  auto revs = store().ListJobRevisions(1);
  ASSERT_TRUE(revs.ok()) << revs.status();
  ASSERT_EQ(revs->size(), 2u);
  ExpectSame(r2, (*revs)[0]);
  ExpectSame(r1, (*revs)[1]);
  EXPECT_THAT(*store().ListJobRevisions(99), IsEmpty());

  r2.author = "dave";  // the same (job, version) again replaces it
  ASSERT_TRUE(store().Commit(WriteBatch{.revisions = {r2}}).ok());
  ExpectSame(r2, store().ListJobRevisions(1)->at(0));
}

TEST_P(StoreContractTest, ActionRoundTripsEveryField) {
  WriteBatch b = BaseBatch();
  Action a = MakeAction(10, 1, T(3600), ActionStatus::kWaiting);
  a.job_version = 4;
  a.upstream = {30, 10'000'000'000, 20};  // order kept, 64-bit ids
  a.reason = "waiting for 上游 job2";
  a.created_at = T(5, 1);
  a.updated_at = T(6, 2);
  a.manual = true;
  Action bare = MakeAction(11, 2, T(0));
  b.actions = {a, bare};
  ASSERT_TRUE(store().Commit(b).ok());
  ExpectSame(a, *store().GetAction(10));
  ExpectSame(bare, *store().GetAction(11));

  a.status = ActionStatus::kSuccess;
  a.upstream.clear();
  a.reason.clear();
  ASSERT_TRUE(store().Commit(WriteBatch{.actions = {a}}).ok());
  ExpectSame(a, *store().GetAction(10));
  EXPECT_EQ(store().GetAction(12).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, RunRoundTripsEveryField) {
  WriteBatch b = BaseBatch();
  b.actions = {MakeAction(1, 1, T(0))};
  core::Run finished = MakeRun(100, 1, 1, RunStatus::kFailed, T(10, 1));
  finished.trigger = core::Trigger::kSuperRecovery;
  finished.attempt = 3;
  finished.job_version = 9;
  finished.worker = "worker-7.example.com:9887";
  finished.created_by = "操作员";
  finished.started_at = T(11, 2);
  finished.ended_at = T(12, 3);
  finished.exit_code = 0;  // zero is a value, not "absent"
  finished.signal = 9;
  finished.message = "killed: out of memory ✗";
  core::Run queued = MakeRun(101, 1, 1);  // optional fields absent
  core::Run negative = MakeRun(102, 2, 0, RunStatus::kLost);
  negative.exit_code = -1;
  b.runs = {finished, queued, negative};
  ASSERT_TRUE(store().Commit(b).ok());
  ExpectSame(finished, *store().GetRun(100));
  ExpectSame(queued, *store().GetRun(101));
  ExpectSame(negative, *store().GetRun(102));

  for (core::Trigger t : {core::Trigger::kSchedule, core::Trigger::kManual,
                          core::Trigger::kRecovery, core::Trigger::kRerun, core::Trigger::kDebug,
                          core::Trigger::kApi}) {
    queued.trigger = t;
    ASSERT_TRUE(store().Commit(WriteBatch{.runs = {queued}}).ok());
    EXPECT_EQ(core::Name(store().GetRun(101)->trigger), core::Name(t));
  }
  finished.started_at.reset();
  finished.ended_at.reset();
  finished.exit_code.reset();
  finished.signal.reset();
  ASSERT_TRUE(store().Commit(WriteBatch{.runs = {finished}}).ok());
  ExpectSame(finished, *store().GetRun(100));
  EXPECT_EQ(store().GetRun(103).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, CommitIsAllOrNothing) {
  ASSERT_TRUE(store().Commit(WriteBatch{.groups = {MakeGroup(1, "g")}}).ok());
  WriteBatch b;
  b.groups = {MakeGroup(2, "new group")};
  b.jobs = {MakeJob(1, 1, "same"), MakeJob(2, 1, "same")};  // the 2nd violates (group, name)
  b.actions = {MakeAction(1, 1, T(0))};
  b.runs = {MakeRun(1, 1, 1)};
  absl::Status st = store().Commit(b);
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;

  EXPECT_EQ(store().GetJob(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetGroup(2).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetAction(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetRun(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().LoadMaxIds()->job, 0);

  // The same name in another group is fine, and the store still takes writes.
  b.jobs[1].group_id = 2;
  ASSERT_TRUE(store().Commit(b).ok());
  EXPECT_THAT(Ids(*store().ListAllJobs()), ElementsAre(1, 2));
}

TEST_P(StoreContractTest, BrokenReferencesFailTheBatch) {
  ASSERT_TRUE(store().Commit(BaseBatch()).ok());
  // A job in a group that does not exist.
  absl::Status st = store().Commit(WriteBatch{.jobs = {MakeJob(3, 42, "orphan")}});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(store().GetJob(3).status().code(), absl::StatusCode::kNotFound);
  // A group that still has jobs.
  st = store().Commit(WriteBatch{.deleted_groups = {1}});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_TRUE(store().GetGroup(1).ok());
}

TEST_P(StoreContractTest, DeletingAJobDeletesItsRevisionsActionsAndRuns) {
  WriteBatch b = BaseBatch();
  for (core::JobId job : {1, 2}) {
    b.revisions.push_back({.job_id = job, .version = 1, .author = "a", .definition_json = "{}"});
    b.actions.push_back(MakeAction(job * 10, job, T(0), ActionStatus::kRunning));
    b.runs.push_back(MakeRun(job * 100, job, job * 10, RunStatus::kRunning));
  }
  ASSERT_TRUE(store().Commit(b).ok());
  ASSERT_TRUE(store().Commit(WriteBatch{.deleted_jobs = {1, 77}}).ok());  // 77: no such job

  EXPECT_EQ(store().GetJob(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(*store().ListJobRevisions(1), IsEmpty());
  EXPECT_EQ(store().GetAction(10).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetRun(100).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().ListRuns({.job_id = 1})->total, 0);
  EXPECT_THAT(Ids(*store().ListUnfinishedActions(absl::InfiniteFuture())), ElementsAre(20));
  EXPECT_THAT(Ids(*store().ListUnfinishedRuns()), ElementsAre(200));
  EXPECT_TRUE(store().GetJob(2).ok());
  EXPECT_EQ(store().ListJobRevisions(2)->size(), 1u);

  // With its jobs gone, the group can go too; and single actions can be deleted.
  ASSERT_TRUE(store().Commit(WriteBatch{.deleted_jobs = {2}, .deleted_actions = {20}}).ok());
  ASSERT_TRUE(store().Commit(WriteBatch{.deleted_groups = {1}}).ok());
  EXPECT_THAT(*store().ListGroups(), IsEmpty());
}

// The engine holds a turn's writes and commits them with the next: a run may be queued, started
// and ended within one batch.
TEST_P(StoreContractTest, ARowWrittenTwiceInOneBatchKeepsItsLastVersion) {
  WriteBatch b = BaseBatch();
  Action waiting = MakeAction(1, 1, T(0), ActionStatus::kWaiting);
  waiting.reason = "waiting for upstream";
  Action done = MakeAction(1, 1, T(0), ActionStatus::kSuccess);
  core::Run queued = MakeRun(7, 1, 1, RunStatus::kQueued, T(1));
  core::Run running = queued;
  running.status = RunStatus::kRunning;
  running.worker = "local";
  running.started_at = T(2);
  core::Run ended = running;
  ended.status = RunStatus::kSuccess;
  ended.ended_at = T(3);
  ended.exit_code = 0;
  core::Run other = MakeRun(8, 1, 1, RunStatus::kQueued, T(1));
  b.actions = {waiting, done};
  b.runs = {queued, other, running, ended};
  ASSERT_TRUE(store().Commit(b).ok());
  ExpectSame(done, *store().GetAction(1));
  ExpectSame(ended, *store().GetRun(7));
  ExpectSame(other, *store().GetRun(8));
  // And over a row already stored: the last version wins again.
  ASSERT_TRUE(store().Commit(WriteBatch{.runs = {queued, running}}).ok());
  ExpectSame(running, *store().GetRun(7));
}

// The engine appends batches it held back to the next one; that equals committing them in order
// only because a batch's deletions come after its upserts.
TEST_P(StoreContractTest, RowsWrittenAndDeletedInOneBatchAreDeleted) {
  WriteBatch b = BaseBatch();
  b.actions = {MakeAction(1, 1, T(0)), MakeAction(2, 1, T(60))};
  ASSERT_TRUE(store().Commit(b).ok());
  WriteBatch both;
  both.actions = {MakeAction(1, 1, T(0), ActionStatus::kRunning)};
  both.runs = {MakeRun(5, 1, 1, RunStatus::kRunning)};
  both.deleted_actions = {1};
  ASSERT_TRUE(store().Commit(both).ok());
  EXPECT_EQ(store().GetAction(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store().GetRun(5).ok());
  WriteBatch job_gone;
  job_gone.runs = {MakeRun(6, 1, 2, RunStatus::kQueued)};
  job_gone.deleted_jobs = {1};
  ASSERT_TRUE(store().Commit(job_gone).ok());
  EXPECT_EQ(store().GetRun(5).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetRun(6).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetAction(2).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, DeleteActionKeepsTheRest) {
  WriteBatch b = BaseBatch();
  b.actions = {MakeAction(1, 1, T(0)), MakeAction(2, 1, T(60))};
  ASSERT_TRUE(store().Commit(b).ok());
  ASSERT_TRUE(store().Commit(WriteBatch{.deleted_actions = {1}}).ok());
  EXPECT_EQ(store().GetAction(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Ids(*store().ListActions(1, absl::InfinitePast(), absl::InfiniteFuture())),
              ElementsAre(2));
}

TEST_P(StoreContractTest, ListJobsFiltersPagesAndCounts) {
  WriteBatch b;
  b.groups = {MakeGroup(1, "g1"), MakeGroup(2, "g2")};
  const std::vector<std::pair<core::GroupId, std::string>> jobs = {
      {1, "etl_daily"}, {1, "ETL_Hourly"}, {2, "report"},   {2, "100%_done"},
      {1, "a_b"},       {1, "axb"},        {2, "日报_sales"}, {2, "back\\slash"}};
  for (size_t i = 0; i < jobs.size(); ++i) {
    b.jobs.push_back(MakeJob(static_cast<core::JobId>(i + 1), jobs[i].first, jobs[i].second));
  }
  ASSERT_TRUE(store().Commit(b).ok());

  auto list = [&](core::JobFilter f) {
    auto page = store().ListJobs(f);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? *page : core::Page<Job>{};
  };
  auto all = list({});
  EXPECT_EQ(all.total, 8);
  EXPECT_THAT(Ids(all.items), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  EXPECT_THAT(Ids(list({.group_id = 2}).items), ElementsAre(3, 4, 7, 8));
  EXPECT_THAT(Ids(list({.q = "etl"}).items), ElementsAre(1, 2));
  EXPECT_THAT(Ids(list({.q = "hOuR"}).items), ElementsAre(2));
  EXPECT_THAT(Ids(list({.q = "%"}).items), ElementsAre(4));        // literal, not a wildcard
  EXPECT_THAT(Ids(list({.q = "a_b"}).items), ElementsAre(5));      // '_' literal: not "axb"
  EXPECT_THAT(Ids(list({.q = "\\"}).items), ElementsAre(8));       // the escape is literal too
  EXPECT_THAT(Ids(list({.q = "日报"}).items), ElementsAre(7));
  EXPECT_THAT(Ids(list({.group_id = 1, .q = "_"}).items), ElementsAre(1, 2, 5));
  EXPECT_THAT(list({.q = "nothing"}).items, IsEmpty());
  EXPECT_THAT(list({.group_id = 3}).items, IsEmpty());

  auto page = list({.limit = 3, .offset = 2});
  EXPECT_EQ(page.total, 8);
  EXPECT_THAT(Ids(page.items), ElementsAre(3, 4, 5));
  page = list({.group_id = 1, .limit = 2, .offset = 3});
  EXPECT_EQ(page.total, 4);
  EXPECT_THAT(Ids(page.items), ElementsAre(6));
  page = list({.limit = 0});
  EXPECT_EQ(page.total, 8);
  EXPECT_THAT(page.items, IsEmpty());
  EXPECT_THAT(list({.offset = 100}).items, IsEmpty());
  EXPECT_EQ(store().ListJobs({.limit = -1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store().ListJobs({.offset = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreContractTest, ListRunsFiltersNewestFirst) {
  WriteBatch b = BaseBatch();
  b.actions = {MakeAction(1, 1, T(0)), MakeAction(2, 1, T(60)), MakeAction(3, 2, T(0))};
  b.runs = {MakeRun(1, 1, 1, RunStatus::kFailed, T(100)),
            MakeRun(2, 1, 1, RunStatus::kSuccess, T(200)),
            MakeRun(3, 1, 2, RunStatus::kRunning, T(300)),
            MakeRun(4, 2, 3, RunStatus::kFailed, T(400)),
            MakeRun(5, 2, 3, RunStatus::kQueued, T(500)),
            MakeRun(6, 1, 2, RunStatus::kFailed, T(250))};
  ASSERT_TRUE(store().Commit(b).ok());

  auto list = [&](core::RunFilter f) {
    auto page = store().ListRuns(f);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? *page : core::Page<core::Run>{};
  };
  auto all = list({});
  EXPECT_EQ(all.total, 6);
  EXPECT_THAT(Ids(all.items), ElementsAre(6, 5, 4, 3, 2, 1));
  EXPECT_THAT(Ids(list({.job_id = 1}).items), ElementsAre(6, 3, 2, 1));
  EXPECT_THAT(Ids(list({.action_id = 3}).items), ElementsAre(5, 4));
  EXPECT_THAT(Ids(list({.status = RunStatus::kFailed}).items), ElementsAre(6, 4, 1));
  EXPECT_THAT(Ids(list({.since = T(250)}).items), ElementsAre(6, 5, 4, 3));  // inclusive
  EXPECT_THAT(Ids(list({.job_id = 1, .status = RunStatus::kFailed, .since = T(101)}).items),
              ElementsAre(6));
  EXPECT_THAT(Ids(list({.job_id = 2, .action_id = 1}).items), IsEmpty());
  EXPECT_THAT(list({.status = RunStatus::kLost}).items, IsEmpty());

  auto page = list({.limit = 2, .offset = 1});
  EXPECT_EQ(page.total, 6);
  EXPECT_THAT(Ids(page.items), ElementsAre(5, 4));
  page = list({.job_id = 1, .limit = 3, .offset = 3});
  EXPECT_EQ(page.total, 4);
  EXPECT_THAT(Ids(page.items), ElementsAre(1));
  EXPECT_EQ(store().ListRuns({.limit = -5}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreContractTest, ListActionsIsAHalfOpenTimeRange) {
  WriteBatch b = BaseBatch();
  b.actions = {MakeAction(5, 1, T(300)), MakeAction(1, 1, T(0)),  MakeAction(2, 1, T(100)),
               MakeAction(4, 1, T(100)), MakeAction(3, 1, T(200)), MakeAction(6, 2, T(100))};
  ASSERT_TRUE(store().Commit(b).ok());
  auto ids = [&](core::JobId job, absl::Time from, absl::Time to) {
    auto actions = store().ListActions(job, from, to);
    EXPECT_TRUE(actions.ok()) << actions.status();
    return actions.ok() ? Ids(*actions) : std::vector<int64_t>{};
  };
  EXPECT_THAT(ids(1, T(100), T(300)), ElementsAre(2, 4, 3));  // by time, then id
  EXPECT_THAT(ids(1, T(0), T(1)), ElementsAre(1));
  EXPECT_THAT(ids(1, T(100, 1), T(200)), IsEmpty());
  EXPECT_THAT(ids(1, T(300), T(300)), IsEmpty());
  EXPECT_THAT(ids(1, absl::InfinitePast(), absl::InfiniteFuture()), ElementsAre(1, 2, 4, 3, 5));
  EXPECT_THAT(ids(2, T(0), T(1000)), ElementsAre(6));
  EXPECT_THAT(ids(3, T(0), T(1000)), IsEmpty());
  // Every job's actions in a window, by time then id.
  auto all = store().ListActionsBetween(T(100), T(300));
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Ids(*all), ElementsAre(2, 4, 6, 3));
}

TEST_P(StoreContractTest, RerunBatchesRoundTripAndList) {
  WriteBatch b = BaseBatch();
  core::RerunBatch r;
  r.id = 7;
  r.job_id = 1;
  r.from = T(0);
  r.to = T(7200);
  r.parallelism = 4;
  r.items = {{T(0), 11}, {T(3600), 0}, {T(7200), 0}};
  r.next = 1;
  r.done = 1;
  r.created_by = "张三";
  r.created_at = T(5, 1);
  r.updated_at = T(6, 2);
  core::RerunBatch finished = r;
  finished.id = 8;
  finished.status = core::RerunStatus::kDone;
  finished.retry_of = 7;
  b.reruns = {r, finished};
  ASSERT_TRUE(store().Commit(b).ok());
  auto got = store().GetRerun(7);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(core::RerunToDocument(*got), core::RerunToDocument(r));
  EXPECT_EQ(store().GetRerun(9).status().code(), absl::StatusCode::kNotFound);
  auto listed = store().ListReruns(1);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, 8) << "newest first";
  auto unfinished = store().ListUnfinishedReruns();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].id, 7);
  EXPECT_EQ(store().LoadMaxIds()->rerun, 8);
}

TEST_P(StoreContractTest, UnfinishedActionsAndRuns) {
  WriteBatch b = BaseBatch();
  const ActionStatus action_statuses[] = {
      ActionStatus::kSuccess, ActionStatus::kPending, ActionStatus::kFailed,
      ActionStatus::kWaiting, ActionStatus::kCancelled, ActionStatus::kQueued,
      ActionStatus::kSkipped, ActionStatus::kRunning};
  std::vector<int64_t> want_actions;
  for (size_t i = 0; i < std::size(action_statuses); ++i) {
    const auto id = static_cast<core::ActionId>(i + 1);
    b.actions.push_back(MakeAction(id, 1, T(static_cast<int64_t>(i)), action_statuses[i]));
    if (!core::IsTerminal(action_statuses[i])) want_actions.push_back(id);
  }
  const RunStatus run_statuses[] = {RunStatus::kSuccess, RunStatus::kQueued,
                                    RunStatus::kFailed,  RunStatus::kRunning,
                                    RunStatus::kLost,    RunStatus::kCancelled};
  std::vector<int64_t> want_runs;
  for (size_t i = 0; i < std::size(run_statuses); ++i) {
    const auto id = static_cast<core::RunId>(i + 1);
    b.runs.push_back(MakeRun(id, 1, 1, run_statuses[i]));
    if (!core::IsTerminal(run_statuses[i])) want_runs.push_back(id);
  }
  ASSERT_TRUE(store().Commit(b).ok());
  EXPECT_EQ(Ids(*store().ListUnfinishedActions(absl::InfiniteFuture())), want_actions);
  EXPECT_EQ(Ids(*store().ListUnfinishedRuns()), want_runs);
  EXPECT_EQ(want_actions, (std::vector<int64_t>{2, 4, 6, 8}));
  // Only those scheduled before a time (action i + 1 is at T(i)).
  EXPECT_EQ(Ids(*store().ListUnfinishedActions(T(5))), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(want_runs, (std::vector<int64_t>{2, 4}));

  // Finishing them takes them off the lists.
  b = WriteBatch{};
  b.actions.push_back(MakeAction(2, 1, T(1), ActionStatus::kSuccess));
  b.runs.push_back(MakeRun(2, 1, 1, RunStatus::kSuccess));
  ASSERT_TRUE(store().Commit(b).ok());
  EXPECT_THAT(Ids(*store().ListUnfinishedActions(absl::InfiniteFuture())), ElementsAre(4, 6, 8));
  EXPECT_THAT(Ids(*store().ListUnfinishedRuns()), ElementsAre(4));
}

TEST_P(StoreContractTest, RetentionListsAndDeletesOnlyOldFinishedRuns) {
  WriteBatch b = BaseBatch();
  // Runs 1-3 ended at T(10), T(20), T(30); 4 ended at T(5) but is running again (a stale end
  // never makes a live run purgeable); 5 never ended.
  for (core::RunId id = 1; id <= 3; ++id) {
    core::Run r = MakeRun(id, 1, 1, RunStatus::kSuccess);
    r.ended_at = T(10 * id);
    b.runs.push_back(r);
  }
  core::Run live = MakeRun(4, 1, 1, RunStatus::kRunning);
  live.ended_at = T(5);
  b.runs.push_back(live);
  b.runs.push_back(MakeRun(5, 1, 1, RunStatus::kQueued));
  ASSERT_TRUE(store().Commit(b).ok());
  EXPECT_THAT(*store().ListRunsEndedBefore(T(25), 100), ElementsAre(1, 2));
  EXPECT_THAT(*store().ListRunsEndedBefore(T(100), 2), ElementsAre(1, 2)) << "oldest first";
  ASSERT_TRUE(store().DeleteFinishedRuns({1, 4, 5}).ok());
  EXPECT_TRUE(absl::IsNotFound(store().GetRun(1).status()));
  EXPECT_TRUE(store().GetRun(4).ok()) << "unfinished runs are kept";
  EXPECT_TRUE(store().GetRun(5).ok());
  EXPECT_THAT(*store().ListRunsEndedBefore(T(100), 100), ElementsAre(2, 3));
}

TEST_P(StoreContractTest, MaxIdsAreNeverLowered) {
  WriteBatch b;
  b.groups = {MakeGroup(3, "a"), MakeGroup(9, "b")};
  b.jobs = {MakeJob(40, 3, "x"), MakeJob(12, 9, "y")};
  b.actions = {MakeAction(500, 40, T(0)), MakeAction(7, 12, T(0))};
  b.runs = {MakeRun(6000, 40, 500), MakeRun(8, 12, 7)};
  ASSERT_TRUE(store().Commit(b).ok());
  auto ids = store().LoadMaxIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->group, 9);
  EXPECT_EQ(ids->job, 40);
  EXPECT_EQ(ids->action, 500);
  EXPECT_EQ(ids->run, 6000);

  // Deleting the highest rows does not hand their ids out again.
  ASSERT_TRUE(store().Commit(WriteBatch{.deleted_jobs = {40}}).ok());
  ASSERT_TRUE(store().Commit(WriteBatch{.deleted_groups = {3}}).ok());
  ids = store().LoadMaxIds();
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->group, 9);
  EXPECT_EQ(ids->job, 40);
  EXPECT_EQ(ids->action, 500);
  EXPECT_EQ(ids->run, 6000);
}

TEST_P(StoreContractTest, Users) {
  core::User alice{.username = "alice", .password_hash = "$argon2id$v=19$m=65536$abc",
                   .is_admin = true, .created_at = T(1, 2)};
  auto created = store().CreateUser(alice);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_GT(created->id, 0);
  auto bob = store().CreateUser({.id = 999, .username = "鲍勃", .password_hash = "h2"});
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_GT(bob->id, created->id);
  EXPECT_EQ(*store().CountUsers(), 2);

  for (const auto& got : {store().GetUser(created->id), store().GetUserByName("alice")}) {
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->id, created->id);
    EXPECT_EQ(got->username, "alice");
    EXPECT_EQ(got->password_hash, alice.password_hash);
    EXPECT_TRUE(got->is_admin);
    EXPECT_EQ(got->created_at, alice.created_at);
  }
  EXPECT_EQ(store().GetUserByName("鲍勃")->id, bob->id);
  EXPECT_FALSE(store().GetUserByName("鲍勃")->is_admin);

  auto dup = store().CreateUser({.username = "alice", .password_hash = "x"});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists) << dup.status();
  EXPECT_EQ(*store().CountUsers(), 2);
  EXPECT_EQ(store().GetUser(12345).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetUserByName("ALICE").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().GetUserByName("").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, Tokens) {
  auto user = store().CreateUser({.username = "alice", .password_hash = "h"});
  ASSERT_TRUE(user.ok()) << user.status();
  core::ApiToken session{.token_hash = std::string(64, 'a'), .user_id = user->id,
                         .kind = "session", .created_at = T(0), .expires_at = T(3600)};
  core::ApiToken api{.token_hash = std::string(64, 'b'), .user_id = user->id, .kind = "api",
                     .created_at = T(5)};  // never expires
  ASSERT_TRUE(store().SaveToken(session).ok());
  ASSERT_TRUE(store().SaveToken(api).ok());

  for (const core::ApiToken& want : {session, api}) {
    auto got = store().GetToken(want.token_hash);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->token_hash, want.token_hash);
    EXPECT_EQ(got->user_id, want.user_id);
    EXPECT_EQ(got->kind, want.kind);
    EXPECT_EQ(got->created_at, want.created_at);
    EXPECT_EQ(got->expires_at, want.expires_at);
  }
  EXPECT_EQ(store().GetToken(api.token_hash)->expires_at, absl::InfiniteFuture());

  session.expires_at = T(7200);  // saving again replaces
  ASSERT_TRUE(store().SaveToken(session).ok());
  EXPECT_EQ(store().GetToken(session.token_hash)->expires_at, T(7200));

  ASSERT_TRUE(store().DeleteToken(session.token_hash).ok());
  EXPECT_EQ(store().GetToken(session.token_hash).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store().DeleteToken(session.token_hash).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store().GetToken(api.token_hash).ok());
  EXPECT_EQ(store().GetToken("").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, DataSurvivesReopen) {
  WriteBatch b;
  Group g = MakeGroup(1, "持久 group");
  g.configs = {{"k", "v"}};
  Job job = FullJob(2, 1);
  JobRevision rev{.job_id = 2, .version = 7, .author = "a", .saved_at = T(9),
                  .definition_json = "{\"x\":1}", .changed_fields = {"script"}};
  Action action = MakeAction(3, 2, T(60), ActionStatus::kRunning);
  action.upstream = {1, 2};
  core::Run run = MakeRun(4, 2, 3, RunStatus::kRunning, T(61));
  run.started_at = T(62);
  b.groups = {g};
  b.jobs = {job};
  b.revisions = {rev};
  b.actions = {action};
  b.runs = {run};
  ASSERT_TRUE(store().Commit(b).ok());
  auto user = store().CreateUser({.username = "u", .password_hash = "h"});
  ASSERT_TRUE(user.ok());
  ASSERT_TRUE(store().SaveToken({.token_hash = "t", .user_id = user->id, .kind = "api"}).ok());

  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_NO_FATAL_FAILURE(Reopen());  // a second open finds the schema current: no-op
  ExpectSame(g, *store().GetGroup(1));
  ExpectSame(job, *store().GetJob(2));
  ExpectSame(rev, store().ListJobRevisions(2)->at(0));
  ExpectSame(action, *store().GetAction(3));
  ExpectSame(run, *store().GetRun(4));
  EXPECT_EQ(store().GetUserByName("u")->id, user->id);
  EXPECT_EQ(store().GetToken("t")->user_id, user->id);
  EXPECT_THAT(Ids(*store().ListUnfinishedRuns()), ElementsAre(4));
  auto ids = store().LoadMaxIds();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->job, 2);
  EXPECT_EQ(ids->run, 4);

  // And it still takes writes, with user ids continuing after the old ones.
  ASSERT_TRUE(store().Commit(WriteBatch{.runs = {MakeRun(5, 2, 3)}}).ok());
  EXPECT_GT(store().CreateUser({.username = "v", .password_hash = "h"})->id, user->id);
}

// Readers on 4 threads while the engine thread commits 1,000 batches. Each batch adds run i and
// sets job 1's version to i, so any consistent snapshot has version == run count; across
// separate reads the values may only grow. Run under TSan too.
TEST_P(StoreContractTest, ConcurrentReadsDuringCommits) {
  constexpr int kBatches = 1000;
  constexpr int kReaders = 4;
  Job job = MakeJob(1, 1, "busy");
  job.version = 0;
  ASSERT_TRUE(
      store().Commit(WriteBatch{.groups = {MakeGroup(1, "g")}, .jobs = {job}}).ok());

  std::atomic<bool> done{false};
  absl::Mutex mu;
  std::vector<std::string> errors;  // guarded by mu
  auto fail = [&](std::string message) {
    MutexLock lock(&mu);
    if (errors.size() < 20) errors.push_back(std::move(message));
  };

  std::vector<std::thread> readers;
  std::atomic<int64_t> reads{0};
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!done.load()) {
        auto before = store().GetJob(1);
        auto page = store().ListRuns({.job_id = 1, .limit = 1});
        auto after = store().GetJob(1);
        auto unfinished = store().ListUnfinishedRuns();
        if (!before.ok() || !page.ok() || !after.ok() || !unfinished.ok()) {
          fail("a read failed");
          continue;
        }
        const int64_t total = page->total;
        if (!(last <= before->version && before->version <= total && total <= after->version)) {
          fail(absl::StrCat("not monotonic: ", last, " ", before->version, " ", total, " ",
                            after->version));
        }
        if (total > 0 && (page->items.size() != 1 || page->items[0].id != total)) {
          fail(absl::StrCat("page disagrees with its total ", total));
        }
        if (unfinished->size() > 1) fail("more than one unfinished run");
        last = after->version;
        reads.fetch_add(1);
      }
    });
  }

  absl::Status commit_status;
  for (int i = 1; i <= kBatches && commit_status.ok(); ++i) {
    job.version = i;
    WriteBatch b;
    b.jobs = {job};
    b.runs = {MakeRun(i, 1, 0, RunStatus::kRunning, T(i))};
    if (i > 1) b.runs.push_back(MakeRun(i - 1, 1, 0, RunStatus::kSuccess, T(i - 1)));
    commit_status = store().Commit(b);
  }
  done.store(true);
  for (std::thread& t : readers) t.join();

  EXPECT_TRUE(commit_status.ok()) << commit_status;
  MutexLock lock(&mu);
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_GT(reads.load(), 0);

  EXPECT_EQ(store().ListRuns({})->total, kBatches);
  EXPECT_EQ(store().GetJob(1)->version, kBatches);
}

}  // namespace
}  // namespace hera::store
