"""A master (`hera server`) and two real `hera worker` processes on loopback: spreading runs,
host groups, worker loss with kill -9, results kept in a worker's outbox across restarts, the
cluster token, drain, cancel with YARN/MapReduce kills, and a master outage (issue 5)."""

import datetime
import os
import shutil
import signal
import tempfile
import time
import unittest

from hera_process import ApiError, Hera, Worker, poll

GRACE_S = 3  # the master gives a silent worker up after this long
# Tests that stop the master for longer than GRACE_S need a grace that outlasts the outage: a
# worker cut off for the whole grace kills its runs (so none runs twice) and they are retried.
LONG_GRACE_S = 30
# Long enough that noticing a frozen worker (3 missed 2-s heartbeats) comes well before it.
FROZEN_GRACE_S = 10


class ClusterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hera-cluster-")
        name = self._testMethodName
        grace = (LONG_GRACE_S if "master" in name or "within_grace" in name
                 else FROZEN_GRACE_S if "frozen" in name else GRACE_S)
        # The load limit is the scheduler's to test (core); here a busy CI machine must not
        # hold runs back.
        self.master = Hera(mode="server", extra_args=[
            "--slots", "0", "--worker-grace", str(grace),
            "--max-load-per-core", "1000"]).start()
        self.workers = {}
        self.group = self.master.create_group("cluster")["id"]

    def tearDown(self):
        for w in self.workers.values():
            w.cleanup()
        self.master.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def add_worker(self, worker_id, host_groups=("default",), slots=4, **kw):
        w = Worker(self.master, worker_id, host_groups=host_groups, slots=slots, **kw).start()
        self.workers[worker_id] = w
        w.wait_online()
        return w

    def job(self, name, script, **fields):
        return self.master.create_job(self.group, name, script, **fields)

    def wait_for(self, fn, timeout=60, what="condition"):
        value = poll(fn, timeout)
        if value:
            return value
        self.fail(f"timed out waiting for {what}\nmaster: {self.master.server_log()}\n" +
                  "\n".join(f"{k}: {w.log()}" for k, w in self.workers.items()))

    def runs_of(self, job_id):
        return self.master.get(f"/api/v1/runs?job_id={job_id}&limit=500")["items"]

    def recover(self, job):
        """Runs a cron job's first action as a recovery, so its retry policy applies."""
        action = self.master.get(f"/api/v1/jobs/{job['id']}/actions")["items"][0]
        return self.master.post(f"/api/v1/jobs/{job['id']}/run",
                                {"trigger": "recovery", "action_id": action["id"]})

    def read(self, path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    # ------------------------------------------------------------------------------------------

    def test_runs_spread_over_both_workers_and_host_groups_pin_them(self):
        self.add_worker("w1", host_groups=("default",))
        self.add_worker("w2", host_groups=("default", "spark"))
        job = self.job("spread", "sleep 0.3; echo ran on $(hostname)")
        tickets = [self.master.run_job(job["id"]) for _ in range(20)]
        runs = [self.master.wait_run(t["run_id"]) for t in tickets]
        self.assertEqual({r["status"] for r in runs}, {"success"})
        self.assertEqual({r["worker"] for r in runs}, {"w1", "w2"})
        self.assertIn("ran on", self.master.log(runs[0]["id"]))

        # A secret is masked in the worker's own copy of the log too, not only the master's.
        secretive = self.job("secretive", 'echo "token=$TOKEN"',
                             configs={"secret.token": "s3cr3t-v4lue"})
        run = self.master.wait_run(self.master.run_job(secretive["id"])["run_id"])
        self.assertEqual(run["status"], "success", run)
        self.assertEqual(self.master.log(run["id"]), "token=" + "*" * 12 + "\n")
        worker_log = os.path.join(self.workers[run["worker"]].data_dir, "work", str(run["id"]),
                                  "output.log")
        self.assertEqual(self.read(worker_log), "token=" + "*" * 12 + "\n")

        pinned = self.job("pinned", "echo spark", host_group="spark")
        for _ in range(4):
            run = self.master.wait_run(self.master.run_job(pinned["id"])["run_id"])
            self.assertEqual((run["status"], run["worker"]), ("success", "w2"))

        # A host group no worker ever declared: refused when saved, naming the known ones;
        # with "force" (a worker with it is coming) saved with a warning, and its runs wait.
        with self.assertRaises(ApiError) as typo:
            self.job("typo", "true", host_group="sprak")
        self.assertEqual(typo.exception.status, 409, typo.exception.body)
        self.assertIn("no worker serves host group 'sprak' (known: default, spark)",
                      typo.exception.body["error"]["message"])
        gpu = self.job("train", "echo gpu", host_group="gpu", force=True)
        self.assertIn("host group 'gpu' is served by no worker yet", gpu["warnings"][0])
        waiting = self.master.run_job(gpu["id"])["run_id"]
        time.sleep(1)
        self.assertEqual(self.master.get(f"/api/v1/runs/{waiting}")["status"], "queued")
        self.add_worker("w3", host_groups=("gpu",))
        run = self.master.wait_run(waiting, timeout=30)
        self.assertEqual((run["status"], run["worker"]), ("success", "w3"))

        # The Machines page's data: state, groups, slots, metrics history from heartbeats.
        workers = {w["id"]: w for w in self.master.get("/api/v1/workers")["items"]}
        self.assertEqual(workers["w2"]["host_groups"], ["default", "spark"])
        self.assertEqual(workers["w2"]["slots"], 4)
        self.wait_for(lambda: self.master.get("/api/v1/workers/w1/metrics")["items"],
                      what="a heartbeat with metrics")
        sample = self.master.get("/api/v1/workers/w1/metrics")["items"][-1]
        self.assertGreater(sample["memory_total_bytes"], 0)
        with self.assertRaises(ApiError) as e:
            self.master.get("/api/v1/workers/nope/metrics")
        self.assertEqual(e.exception.status, 404)

    def test_killed_worker_run_is_retried_on_the_other_and_never_overlaps(self):
        w1 = self.add_worker("w1")
        marker = os.path.join(self.tmp, "marker")
        job = self.job("long", f"echo start $HERA_ATTEMPT >> {marker}; sleep 6; "
                               f"echo done $HERA_ATTEMPT >> {marker}",
                       schedule={"cron": "0 0 0 * * ?"}, enabled=True,
                       retry={"count": 1, "interval_s": 0})
        ticket = self.recover(job)
        self.wait_for(lambda: "start 1" in self.read(marker), what="the first attempt to start")
        self.add_worker("w2")
        w1.kill9()
        killed_at = time.time()
        lost = self.master.wait_run(ticket["run_id"], statuses=("lost",), timeout=GRACE_S + 20)
        self.assertIn("w1", lost["message"])
        retry = self.wait_for(lambda: [r for r in self.runs_of(job["id"])
                                       if r["attempt"] == 2 and r["status"] == "success"],
                              timeout=40, what="the retry to succeed")[0]
        self.assertEqual(retry["worker"], "w2")
        self.assertGreaterEqual(time.time() - killed_at, GRACE_S)
        # The killed attempt's group died with its worker: it never wrote "done".
        self.assertEqual(self.read(marker).split("\n"), ["start 1", "start 2", "done 2", ""])

    def test_worker_restarted_within_grace_loses_its_runs_and_retries_them(self):
        """kill -9 of a worker running 4 retried jobs, restarted at once: the runs it was
        running are lost (not failed), and each is retried, never two attempts at once."""
        w1 = self.add_worker("w1", slots=4)
        jobs, tickets = [], []
        for i in range(4):
            marker = os.path.join(self.tmp, f"m{i}")
            job = self.job(f"long{i}", f"echo start $HERA_ATTEMPT >> {marker}; "
                                       f"[ $HERA_ATTEMPT = 1 ] && sleep 60; "
                                       f"echo done $HERA_ATTEMPT >> {marker}",
                           schedule={"cron": "0 0 0 * * ?"}, enabled=True,
                           retry={"count": 3, "interval_s": 0})
            jobs.append((job, marker))
            tickets.append(self.recover(job))
        for _, marker in jobs:
            self.wait_for(lambda m=marker: "start 1" in self.read(m), what="every first attempt")
        w1.kill9()
        w1.start()
        for ticket in tickets:
            lost = self.master.wait_run(ticket["run_id"], timeout=30)
            self.assertEqual(lost["status"], "lost", lost)
            self.assertNotIn("could not start", lost["message"])
        for job, marker in jobs:
            retry = self.wait_for(lambda j=job: [r for r in self.runs_of(j["id"])
                                                 if r["attempt"] == 2 and r["status"] == "success"],
                                  timeout=40, what="the retry to succeed")[0]
            self.assertEqual(retry["trigger"], "recovery")
            self.assertEqual(self.read(marker).split("\n"), ["start 1", "start 2", "done 2", ""])

    def test_frozen_worker_is_lost_one_grace_after_its_last_heartbeat(self):
        """SIGSTOP: silence is noticed after 3 missed heartbeats, and the grace counts from the
        last message, so the run is lost about FROZEN_GRACE_S after the freeze, not twice that."""
        w1 = self.add_worker("w1")
        job = self.job("frozen", "sleep 120", schedule={"cron": "0 0 0 * * ?"}, enabled=True,
                       retry={"count": 1, "interval_s": 0})
        ticket = self.recover(job)
        self.master.wait_run(ticket["run_id"], statuses=("running",), timeout=20)
        w1.proc.send_signal(signal.SIGSTOP)
        frozen_at = time.time()
        try:
            offline = self.wait_for(
                lambda: [w for w in self.master.get("/api/v1/workers")["items"]
                         if w["id"] == "w1" and w["state"] != "online"],
                timeout=FROZEN_GRACE_S, what="the frozen worker to be noticed")
            self.assertTrue(offline)
            lost = self.master.wait_run(ticket["run_id"], statuses=("lost",),
                                        timeout=2 * FROZEN_GRACE_S)
            # Lost once the grace has passed since its last heartbeat (sent at most 2 s before
            # the freeze), and well before a second grace would have passed.
            self.assertGreaterEqual(time.time() - frozen_at, FROZEN_GRACE_S - 2.5)
            self.assertLess(time.time() - frozen_at, 1.5 * FROZEN_GRACE_S)
            # Whole seconds, from the last heartbeat; the run ended then as far as anyone knows.
            self.assertRegex(lost["message"], r"^lost: worker w1 was silent from \S+ for \d+s$")
            ended = datetime.datetime.fromisoformat(lost["ended_at"]).timestamp()
            self.assertLess(ended, frozen_at + 0.5, "ended at its last sign of life")
            self.assertGreater(ended, frozen_at - 3)
        finally:
            w1.proc.send_signal(signal.SIGCONT)

    def test_result_finished_while_the_master_was_away_survives_a_worker_restart(self):
        w1 = self.add_worker("w1")
        marker = os.path.join(self.tmp, "ran")
        job = self.job("quick", f"sleep 2; echo once >> {marker}")
        ticket = self.master.run_job(job["id"])
        self.master.wait_run(ticket["run_id"], statuses=("running",), timeout=20)
        self.master.stop()  # the result has nowhere to go: it waits in the worker's outbox
        self.wait_for(lambda: "once" in self.read(marker), what="the run to finish")
        w1.kill9()          # ... and must survive the worker's death
        self.master.start()
        w1.start()
        run = self.master.wait_run(ticket["run_id"], timeout=30)
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.read(marker), "once\n")

    def test_master_outage_loses_nothing(self):
        self.add_worker("w1", slots=8)
        marker = os.path.join(self.tmp, "ran")
        job = self.job("steady", f"sleep 1; echo $HERA_RUN_ID >> {marker}")
        tickets = [self.master.run_job(job["id"]) for _ in range(6)]
        self.master.wait_run(tickets[0]["run_id"], statuses=("running",), timeout=20)
        self.master.stop()
        time.sleep(5)  # runs finish while the stream is cut
        self.master.start()
        runs = [self.master.wait_run(t["run_id"], timeout=40) for t in tickets]
        self.assertEqual([r["status"] for r in runs], ["success"] * 6)
        lines = self.read(marker).split()
        self.assertEqual(sorted(lines), sorted(str(t["run_id"]) for t in tickets))

    def test_wrong_token_is_refused_on_both_sides(self):
        bad = Worker(self.master, "intruder", token="not-the-token").start()
        self.workers["intruder"] = bad
        self.wait_for(lambda: "refused" in bad.log(), timeout=20, what="the worker's log line")
        self.assertIn("refused a worker stream", self.master.server_log())
        ids = [w["id"] for w in self.master.get("/api/v1/workers")["items"]]
        self.assertNotIn("intruder", ids)

    def test_drain_stops_new_work_and_lets_running_work_finish(self):
        self.add_worker("w1")
        self.add_worker("w2")
        slow = self.job("slow", "sleep 2")
        first = [self.master.run_job(slow["id"]) for _ in range(4)]
        self.wait_for(lambda: len({r["worker"] for r in self.runs_of(slow["id"])
                                   if r["status"] == "running"}) == 2,
                      what="runs on both workers")
        drained = self.master.post("/api/v1/workers/w1/drain")
        self.assertEqual(drained["state"], "draining")
        later = [self.master.run_job(slow["id"]) for _ in range(4)]
        for t in first:
            self.assertEqual(self.master.wait_run(t["run_id"])["status"], "success")
        for t in later:
            run = self.master.wait_run(t["run_id"])
            self.assertEqual((run["status"], run["worker"]), ("success", "w2"))

    def test_cancel_kills_the_tree_and_the_yarn_and_mapreduce_jobs_it_announced(self):
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir)
        calls = os.path.join(self.tmp, "kill-calls")
        for name in ("yarn", "mapred"):
            path = os.path.join(bin_dir, name)
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\necho {name} \"$@\" >> {calls}\n")
            os.chmod(path, 0o755)
        env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"])
        self.add_worker("w1", env=env)
        pid_file = os.path.join(self.tmp, "child.pid")
        job = self.job("hive", "echo 'Submitted application application_1700000000000_0042'\n"
                               "echo 'Starting Job = job_1700000000000_0042, Tracking URL'\n"
                               f"sleep 300 & echo $! > {pid_file}; wait")
        ticket = self.master.run_job(job["id"])
        self.wait_for(lambda: "job_1700000000000_0042" in (self.master.log(ticket["run_id"]) or ""),
                      what="the announced ids in the log")
        self.master.post(f"/api/v1/runs/{ticket['run_id']}/cancel")
        run = self.master.wait_run(ticket["run_id"], timeout=20)
        self.assertEqual(run["status"], "cancelled")
        child = int(self.read(pid_file).strip())
        self.wait_for(lambda: not os.path.exists(f"/proc/{child}") or
                      open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0] == "Z",
                      timeout=10, what="the background sleep to die")
        self.wait_for(lambda: "mapred" in self.read(calls) and "yarn" in self.read(calls),
                      timeout=20, what="both kill commands")
        lines = sorted(self.read(calls).strip().split("\n"))
        self.assertEqual(lines, ["mapred job -kill job_1700000000000_0042",
                                 "yarn application -kill application_1700000000000_0042"])


if __name__ == "__main__":
    unittest.main()
