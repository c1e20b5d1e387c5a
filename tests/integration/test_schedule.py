"""Scheduling end to end on the real binary: cron timers, dependencies, retries, recovery,
enable/disable guards, and a crash in the middle of a scheduled run."""

import datetime
import os
import tempfile
import time
import unittest

from hera_process import HERA_BIN, ApiError, Hera, poll


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def cron_every_2s_for_minutes(minutes=4):
    """A Quartz cron firing every 2 seconds during the next few minutes only (UTC), so that a
    job's planned window stays small."""
    start = utc_now()
    slots = {(start + datetime.timedelta(minutes=i)) for i in range(minutes)}
    mins = ",".join(sorted({str(t.minute) for t in slots}, key=int))
    hours = ",".join(sorted({str(t.hour) for t in slots}, key=int))
    return f"*/2 {mins} {hours} * * ?"


def cron_once_in(seconds):
    t = utc_now() + datetime.timedelta(seconds=seconds)
    return f"{t.second} {t.minute} {t.hour} {t.day} {t.month} ? {t.year}"


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class ScheduleTest(unittest.TestCase):
    def setUp(self):
        self.hera = Hera().start()
        self.addCleanup(self.hera.cleanup)
        self.gid = self.hera.create_group("etl")["id"]
        self.tmp = tempfile.mkdtemp(prefix="hera-sched-")

    def job(self, name, script="true", **fields):
        fields.setdefault("enabled", True)
        schedule = fields.pop("schedule", {})
        schedule.setdefault("timezone", "UTC")
        return self.hera.create_job(self.gid, name, script, schedule=schedule, **fields)

    def runs(self, job_id):
        return list(reversed(self.hera.get(f"/api/v1/runs?job_id={job_id}&limit=1000")["items"]))

    def wait_for(self, predicate, timeout=60, what="condition"):
        value = poll(predicate, timeout)
        if value:
            return value
        self.fail(f"timed out waiting for {what}")

    def action(self, action_id):
        job_actions = None
        for run in self.hera.get(f"/api/v1/runs?action_id={action_id}")["items"]:
            job_actions = self.hera.get(f"/api/v1/jobs/{run['job_id']}/actions")["items"]
        for a in job_actions or []:
            if a["id"] == action_id:
                return a
        return None

    def test_timed_job_runs_on_its_cron_and_its_downstream_follows_each_time(self):
        a = self.job("a", "echo a $HERA_SCHEDULED_TIME",
                     schedule={"cron": cron_every_2s_for_minutes()})
        b = self.job("b", "echo b", schedule={"depends_on": [{"job_id": a["id"]}]})
        self.wait_for(lambda: len([r for r in self.runs(b["id"]) if r["status"] == "success"]) >= 3,
                      what="three scheduled runs of b")
        a_runs = {r["action_id"]: r for r in self.runs(a["id"])}
        actions_b = {x["id"]: x for x in self.hera.get(f"/api/v1/jobs/{b['id']}/actions")["items"]}
        for run in self.runs(b["id"]):
            if run["status"] != "success":
                continue
            self.assertEqual(run["trigger"], "schedule")
            upstream = actions_b[run["action_id"]]["upstream"]
            self.assertEqual(len(upstream), 1)
            up_run = a_runs[upstream[0]]
            self.assertEqual(up_run["status"], "success")
            # b started only after its upstream run of a had ended.
            self.assertLessEqual(up_run["ended_at"], run["started_at"])
        # Each scheduled action of a ran exactly once.
        counts = {}
        for r in self.runs(a["id"]):
            counts[r["action_id"]] = counts.get(r["action_id"], 0) + 1
        self.assertEqual(set(counts.values()), {1})
        log = self.hera.log(self.runs(a["id"])[0]["id"])
        self.assertTrue(log.startswith("a 20"), log)

    def test_a_failed_run_is_retried_and_then_succeeds(self):
        marker = os.path.join(self.tmp, "attempted")
        job = self.job("flaky", f"if [ -f {marker} ]; then echo second; else touch {marker}; exit 3; fi",
                       schedule={"cron": cron_once_in(2)}, retry={"count": 2, "interval_s": 1})
        runs = self.wait_for(lambda: [r for r in self.runs(job["id"]) if r["status"] == "success"],
                             what="the retry to succeed")
        all_runs = self.runs(job["id"])
        self.assertEqual([r["attempt"] for r in all_runs], [1, 2])
        self.assertEqual(all_runs[0]["status"], "failed")
        self.assertEqual(all_runs[0]["exit_code"], 3)
        self.assertEqual(runs[0]["action_id"], all_runs[0]["action_id"])
        actions = self.hera.get(f"/api/v1/jobs/{job['id']}/actions")["items"]
        self.assertEqual([a["status"] for a in actions if a["id"] == runs[0]["action_id"]], ["success"])

    def test_recovery_of_a_failed_action_lets_its_downstream_run(self):
        marker = os.path.join(self.tmp, "fixed")
        a = self.job("a", f"test -f {marker}", schedule={"cron": cron_once_in(2)})
        b = self.job("b", "echo b ran", schedule={"depends_on": [{"job_id": a["id"]}]})
        failed = self.wait_for(lambda: [r for r in self.runs(a["id"]) if r["status"] == "failed"],
                               what="a to fail")[0]
        time.sleep(0.5)
        self.assertEqual(self.runs(b["id"]), [])
        waiting = [x for x in self.hera.get(f"/api/v1/jobs/{b['id']}/actions")["items"]
                   if x["upstream"] == [failed["action_id"]]]
        self.assertEqual(waiting[0]["status"], "waiting")
        self.assertIn(f"job {a['id']}", waiting[0]["reason"])
        open(marker, "w").close()
        with self.assertRaises(ApiError) as e:
            self.hera.post(f"/api/v1/jobs/{a['id']}/run", {"trigger": "api", "cascade": True})
        self.assertIn("action_id", e.exception.body["error"]["message"])
        # An API call that asks to cascade runs as a recovery.
        ticket = self.hera.post(f"/api/v1/jobs/{a['id']}/run",
                                {"trigger": "api", "cascade": True,
                                 "action_id": failed["action_id"]})
        self.assertEqual(ticket["action_id"], failed["action_id"])
        b_run = self.wait_for(lambda: [r for r in self.runs(b["id"]) if r["status"] == "success"],
                              what="b after the recovery")[0]
        self.assertEqual(b_run["trigger"], "schedule")
        self.assertEqual(self.hera.get(f"/api/v1/runs/{ticket['run_id']}")["trigger"], "recovery")

    def test_enable_disable_guards_and_bad_schedules(self):
        a = self.job("a", schedule={"cron": "0 0 3 * * ?"})
        b = self.job("b", schedule={"depends_on": [{"job_id": a["id"]}]})
        with self.assertRaises(ApiError) as e:
            self.hera.post(f"/api/v1/jobs/{a['id']}/disable")
        self.assertEqual(e.exception.status, 409)
        self.assertIn("depends on job", e.exception.body["error"]["message"])
        self.assertFalse(self.hera.post(f"/api/v1/jobs/{b['id']}/disable")["enabled"])
        self.assertFalse(self.hera.post(f"/api/v1/jobs/{a['id']}/disable")["enabled"])
        with self.assertRaises(ApiError) as e:
            self.hera.post(f"/api/v1/jobs/{b['id']}/enable")
        self.assertEqual(e.exception.status, 409)
        # A cycle is refused, naming it; a bad cron names the field and the cron field.
        with self.assertRaises(ApiError) as e:
            self.hera.request("PATCH", f"/api/v1/jobs/{a['id']}",
                              {"schedule": {"depends_on": [{"job_id": b["id"]}]}})
        self.assertIn(f"{a['id']} → {b['id']} → {a['id']}", e.exception.body["error"]["message"])
        with self.assertRaises(ApiError) as e:
            self.job("bad", schedule={"cron": "0 0 25 * * ?"})
        self.assertEqual(e.exception.status, 400)
        self.assertIn("schedule.cron", e.exception.body["error"]["message"])
        self.assertEqual(self.hera.get("/api/v1/jobs")["total"], 2)

    def test_super_recovery_reruns_the_chain_once_and_force_unblocks_downstream(self):
        a = self.job("a", "echo a", schedule={"cron": cron_once_in(2)})
        b = self.job("b", "echo b", schedule={"depends_on": [{"job_id": a["id"]}]})
        c = self.job("c", "echo c", schedule={"depends_on": [{"job_id": b["id"]}]})
        self.wait_for(lambda: [r for r in self.runs(c["id"]) if r["status"] == "success"],
                      what="the chain to run once")
        root_action = self.runs(a["id"])[0]["action_id"]
        self.hera.post(f"/api/v1/jobs/{a['id']}/run",
                       {"trigger": "super_recovery", "action_id": root_action})
        self.wait_for(lambda: len([r for r in self.runs(c["id"]) if r["status"] == "success"]) == 2,
                      what="the super recovery to reach c")
        time.sleep(0.5)
        for job in (a, b, c):
            runs = self.runs(job["id"])
            self.assertEqual([r["trigger"] for r in runs], ["schedule", "super_recovery"], job["name"])
        ordered = [self.runs(j["id"])[1] for j in (a, b, c)]
        self.assertLessEqual(ordered[0]["ended_at"], ordered[1]["started_at"])
        self.assertLessEqual(ordered[1]["ended_at"], ordered[2]["started_at"])
        # Force: d fails, e waits; forcing d's action to success lets e run.
        d = self.job("d", "exit 1", schedule={"cron": cron_once_in(2)})
        e = self.job("e", "echo e", schedule={"depends_on": [{"job_id": d["id"]}]})
        failed = self.wait_for(lambda: [r for r in self.runs(d["id"]) if r["status"] == "failed"],
                               what="d to fail")[0]
        with self.assertRaises(ApiError) as err:
            self.hera.post(f"/api/v1/actions/{failed['action_id']}/force", {"status": "success"})
        self.assertIn("reason", err.exception.body["error"]["message"])
        forced = self.hera.post(f"/api/v1/actions/{failed['action_id']}/force",
                                {"status": "success", "reason": "loaded by hand"})
        self.assertEqual(forced["status"], "success")
        self.assertIn("loaded by hand", forced["reason"])
        self.wait_for(lambda: [r for r in self.runs(e["id"]) if r["status"] == "success"],
                      what="e after the forced success")

    def test_chain_disable_turns_off_everything_downstream(self):
        a = self.job("a", schedule={"cron": "0 0 3 * * ?"})
        b = self.job("b", schedule={"depends_on": [{"job_id": a["id"]}]})
        c = self.job("c", schedule={"depends_on": [{"job_id": b["id"]}]})
        result = self.hera.post(f"/api/v1/jobs/{a['id']}/disable", {"chain": True})
        self.assertEqual(result["changed"], [c["id"], b["id"], a["id"]])
        self.assertFalse(any(j["enabled"] for j in self.hera.get("/api/v1/jobs")["items"]))
        result = self.hera.post(f"/api/v1/jobs/{c['id']}/enable", {"chain": True})
        self.assertEqual(result["changed"], [a["id"], b["id"], c["id"]])

    def test_rerun_batch_replays_history_in_order_and_reruns_the_failed_ones(self):
        marker = os.path.join(self.tmp, "fail-0200")
        open(marker, "w").close()
        # Fails for 02:00 while the marker exists: "rerun the failed ones" then succeeds.
        job = self.job("hourly", f"case $HERA_SCHEDULED_TIME in *T02:00:00*) "
                                 f"if [ -f {marker} ]; then exit 5; fi;; esac; echo ok",
                       schedule={"cron": "0 0 * * * ?"}, enabled=False)
        with self.assertRaises(ApiError) as e:
            self.hera.post(f"/api/v1/jobs/{job['id']}/reruns", {"from": "2026-01-01T00:00:00Z"})
        self.assertIn("field 'to': is required", e.exception.body["error"]["message"])
        with self.assertRaises(ApiError) as e:
            self.hera.post(f"/api/v1/jobs/{job['id']}/reruns",
                           {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T03:00:00Z",
                            "parallelism": 99})
        self.assertIn("parallelism", e.exception.body["error"]["message"])
        batch = self.hera.post(f"/api/v1/jobs/{job['id']}/reruns",
                               {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T03:00:00Z",
                                "parallelism": 2})
        self.assertEqual(batch["total"], 4)
        done = self.wait_for(lambda: (lambda b: b if b["status"] == "done" else None)(
            self.hera.get(f"/api/v1/reruns/{batch['id']}")), what="the batch to finish")
        self.assertEqual((done["done"], done["failed"]), (3, 1))
        runs = self.runs(job["id"])
        self.assertEqual({r["trigger"] for r in runs}, {"rerun"})
        started = sorted(runs, key=lambda r: r["id"])
        times = [self.hera.get(f"/api/v1/runs/{r['id']}")["action_id"] for r in started]
        self.assertEqual(len(set(times)), 4)
        os.remove(marker)
        again = self.hera.post(f"/api/v1/reruns/{batch['id']}/rerun-failed")
        self.assertEqual(again["total"], 1)
        self.assertEqual(again["retry_of"], batch["id"])
        self.wait_for(lambda: self.hera.get(f"/api/v1/reruns/{again['id']}")["done"] == 1,
                      what="the failed time to rerun")
        listed = self.hera.get(f"/api/v1/jobs/{job['id']}/reruns")["items"]
        self.assertEqual([b["id"] for b in listed], [again["id"], batch["id"]])
        # An action is one (job, time): the failed time's action ran again, with its history.
        actions = self.hera.get(f"/api/v1/jobs/{job['id']}/actions?from=2026-01-01T00:00:00Z"
                                f"&to=2026-01-01T04:00:00Z")["items"]
        self.assertEqual(len(actions), 4, actions)
        failed_time = [a for a in actions if "T02:00:00" in a["scheduled_time"]][0]
        self.assertEqual(failed_time["status"], "success")
        history = self.hera.get(f"/api/v1/runs?action_id={failed_time['id']}")["items"]
        self.assertEqual([r["status"] for r in history], ["success", "failed"])

        # The whole range once more: the same four actions, each with one more run.
        third = self.hera.post(f"/api/v1/jobs/{job['id']}/reruns",
                               {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T03:00:00Z"})
        self.wait_for(lambda: self.hera.get(f"/api/v1/reruns/{third['id']}")["status"] == "done",
                      what="the third batch to finish")
        again_actions = self.hera.get(f"/api/v1/jobs/{job['id']}/actions?from=2026-01-01T00:00:00Z"
                                      f"&to=2026-01-01T04:00:00Z")["items"]
        self.assertEqual(sorted(a["id"] for a in again_actions), sorted(a["id"] for a in actions))
        self.assertEqual(len(self.runs(job["id"])), 4 + 1 + 4)

    def test_an_overlapping_rerun_batch_is_refused_naming_the_running_one(self):
        job = self.job("slow", "sleep 30", schedule={"cron": "0 0 * * * ?"}, enabled=False)
        first = self.hera.post(f"/api/v1/jobs/{job['id']}/reruns",
                               {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T03:00:00Z"})
        with self.assertRaises(ApiError) as e:
            self.hera.post(f"/api/v1/jobs/{job['id']}/reruns",
                           {"from": "2026-01-01T03:00:00Z", "to": "2026-01-01T05:00:00Z"})
        self.assertEqual(e.exception.status, 409)
        self.assertIn(f"rerun batch {first['id']} of job {job['id']}",
                      e.exception.body["error"]["message"])
        self.assertEqual(len(self.hera.get(f"/api/v1/jobs/{job['id']}/reruns")["items"]), 1)
        # Not overlapping: accepted.
        self.hera.post(f"/api/v1/jobs/{job['id']}/reruns",
                       {"from": "2026-01-02T00:00:00Z", "to": "2026-01-02T01:00:00Z"})
        # Asked to, an overlapping batch waits for the running one, then runs.
        queued = self.hera.post(f"/api/v1/jobs/{job['id']}/reruns",
                                {"from": "2026-01-01T03:00:00Z", "to": "2026-01-01T03:00:00Z",
                                 "queue": True})
        self.assertEqual((queued["status"], queued["after"]), ("waiting", first["id"]))
        self.hera.post(f"/api/v1/reruns/{first['id']}/stop")
        self.wait_for(lambda: self.hera.get(f"/api/v1/reruns/{queued['id']}")["status"]
                      == "running", what="the queued batch to start")
        self.hera.post(f"/api/v1/reruns/{queued['id']}/stop")

    def test_a_backfill_runs_the_dag_over_a_date_range_once_in_order(self):
        trace = os.path.join(self.tmp, "trace")
        step = ('echo "start {name} ${{zdt.format(\"yyyy-MM-dd\")}}" >> ' + trace + '; '
                'sleep 0.2; echo "end {name} ${{zdt.format(\"yyyy-MM-dd\")}}" >> ' + trace)
        a = self.job("extract", step.format(name="a"), schedule={"cron": "0 0 1 * * ?"},
                     enabled=True)
        b = self.job("transform", step.format(name="b"),
                     schedule={"depends_on": [{"job_id": a["id"]}]}, enabled=True)
        c = self.job("load", step.format(name="c"),
                     schedule={"depends_on": [{"job_id": b["id"]}]}, enabled=True)
        request = {"job_ids": [a["id"]], "from": "2026-01-01T00:00:00Z",
                   "to": "2026-01-05T23:59:59Z", "downstream": True, "parallelism": 2}

        # A dry run lists the 15 actions and runs nothing.
        dry = self.hera.post("/api/v1/backfills", dict(request, dry_run=True))
        self.assertIsNone(dry["id"])
        self.assertEqual(dry["total"], 15)
        self.assertEqual([d["total"] for d in dry["by_date"]], [3] * 5)
        self.assertEqual(self.hera.get("/api/v1/backfills")["total"], 0)
        self.assertFalse(os.path.exists(trace))

        bf = self.hera.post("/api/v1/backfills", request)
        self.assertEqual((bf["status"], bf["total"]), ("running", 15))
        # Stopped part way, then resumed: nothing runs twice.
        self.wait_for(lambda: self.hera.get(f"/api/v1/backfills/{bf['id']}")["done"] >= 2,
                      what="two actions done")
        stopped = self.hera.post(f"/api/v1/backfills/{bf['id']}/stop")
        self.assertEqual(stopped["status"], "stopped")
        time.sleep(1)
        self.hera.post(f"/api/v1/backfills/{bf['id']}/resume")
        done = self.wait_for(lambda: (lambda x: x if x["status"] == "done" else None)(
            self.hera.get(f"/api/v1/backfills/{bf['id']}")), timeout=120, what="the backfill")
        self.assertEqual((done["done"], done["failed"], done["waiting"]), (15, 0, 0))
        self.assertEqual([(j["job_id"], j["done"]) for j in done["by_job"]],
                         [(a["id"], 5), (b["id"], 5), (c["id"], 5)])

        with open(trace) as f:
            lines = f.read().split("\n")[:-1]
        starts = [l for l in lines if l.startswith("start")]
        self.assertEqual(len(starts), 15, "each action ran once")
        self.assertEqual(len(set(starts)), 15)
        # Macros at each day's own time; each job after its upstream of the same day.
        for day in range(1, 6):
            date = f"2026-01-0{day}"
            for up, down in (("a", "b"), ("b", "c")):
                self.assertLess(lines.index(f"end {up} {date}"), lines.index(f"start {down} {date}"))
        # Never more than 2 at once.
        running = peak = 0
        for line in lines:
            running += 1 if line.startswith("start") else -1
            peak = max(peak, running)
        self.assertLessEqual(peak, 2)
        # Each node ran its (job, time)'s one action.
        nodes = self.hera.get(f"/api/v1/backfills/{bf['id']}")["nodes"]
        self.assertEqual(len({n["action_id"] for n in nodes}), 15)

    def test_daily_job_has_actions_through_tomorrow(self):
        job = self.job("daily", schedule={"cron": "0 30 2 * * ?"})
        times = [a["scheduled_time"] for a in self.hera.get(f"/api/v1/jobs/{job['id']}/actions")["items"]]
        self.assertEqual(len(times), 2)  # today's (skipped if passed) and tomorrow's
        self.assertTrue(all("T02:30:00" in t for t in times), times)


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class ScheduleRestartTest(unittest.TestCase):
    def test_a_scheduled_run_interrupted_by_kill9_is_lost_then_retried(self):
        hera = Hera().start()
        self.addCleanup(hera.cleanup)
        gid = hera.create_group("etl")["id"]
        marker = os.path.join(hera.data_dir, "first-attempt")
        job = hera.create_job(gid, "long", f"if [ -f {marker} ]; then echo again; else touch {marker}; sleep 300; fi",
                              enabled=True, schedule={"cron": cron_once_in(2), "timezone": "UTC"},
                              retry={"count": 1, "interval_s": 0})
        deadline = time.time() + 30
        while not os.path.exists(marker) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(marker))
        hera.kill9()
        hera.start()
        deadline = time.time() + 30
        runs = []
        while time.time() < deadline:
            runs = list(reversed(hera.get(f"/api/v1/runs?job_id={job['id']}")["items"]))
            if runs and runs[-1]["status"] == "success":
                break
            time.sleep(0.1)
        self.assertEqual([r["status"] for r in runs], ["lost", "success"])
        self.assertEqual([r["attempt"] for r in runs], [1, 2])
        self.assertEqual(runs[0]["action_id"], runs[1]["action_id"])
        self.assertEqual(hera.log(runs[1]["id"]), "again\n")


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class CrashWithEveryStateTest(unittest.TestCase):
    def test_kill9_with_pending_waiting_queued_and_running_actions(self):
        # One slot: r runs, q waits in the queue, w waits for r, p's time has not come.
        hera = Hera(extra_args=["--slots", "1"]).start()
        self.addCleanup(hera.cleanup)
        gid = hera.create_group("etl")["id"]
        started = os.path.join(hera.data_dir, "r-started")
        once = cron_once_in(2)
        r = hera.create_job(gid, "r", f"touch {started}; sleep 300", enabled=True,
                            schedule={"cron": once, "timezone": "UTC"})
        q = hera.create_job(gid, "q", "echo q ran", enabled=True,
                            schedule={"cron": once, "timezone": "UTC"})
        w = hera.create_job(gid, "w", "echo w ran", enabled=True,
                            schedule={"depends_on": [{"job_id": r["id"]}]})
        p = hera.create_job(gid, "p", "echo p ran", enabled=True,
                            schedule={"cron": "0 0 12 * * ?", "timezone": "UTC"})
        deadline = time.time() + 30
        while not os.path.exists(started) and time.time() < deadline:
            time.sleep(0.05)

        def statuses(job):
            return {a["status"] for a in hera.get(f"/api/v1/jobs/{job['id']}/actions")["items"]
                    if a["scheduled_time"] >= "0"}

        q_before = hera.get(f"/api/v1/runs?job_id={q['id']}")["items"]
        self.assertEqual([x["status"] for x in q_before], ["queued"])
        self.assertIn("waiting", statuses(w))
        p_pending_before = [a["id"] for a in hera.get(f"/api/v1/jobs/{p['id']}/actions")["items"]
                            if a["status"] == "pending"]
        self.assertTrue(p_pending_before)
        hera.kill9()
        hera.start()
        # r's run was lost (no retries configured): its action failed, w keeps waiting.
        deadline = time.time() + 30
        while time.time() < deadline:
            q_runs = hera.get(f"/api/v1/runs?job_id={q['id']}")["items"]
            if q_runs and q_runs[0]["status"] == "success":
                break
            time.sleep(0.1)
        r_runs = hera.get(f"/api/v1/runs?job_id={r['id']}")["items"]
        self.assertEqual([x["status"] for x in r_runs], ["lost"])
        # q's queued run survived the crash and ran exactly once.
        self.assertEqual([x["status"] for x in q_runs], ["success"])
        self.assertEqual(q_runs[0]["id"], q_before[0]["id"])
        self.assertEqual(hera.log(q_runs[0]["id"]), "q ran\n")
        self.assertEqual(hera.get(f"/api/v1/runs?job_id={w['id']}")["total"], 0)
        self.assertIn("waiting", statuses(w))
        p_pending_after = [a["id"] for a in hera.get(f"/api/v1/jobs/{p['id']}/actions")["items"]
                           if a["status"] == "pending"]
        self.assertEqual(p_pending_after, p_pending_before)
        self.assertEqual(hera.processes_in_workdir(), [])


if __name__ == "__main__":
    unittest.main()
