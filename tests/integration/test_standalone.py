"""Issue 2 end to end: the real `hera standalone` binary over its HTTP API."""

import datetime
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from hera_process import ADMIN_PASSWORD, HERA_BIN, ApiError, Hera


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class StandaloneTest(unittest.TestCase):
    def setUp(self):
        self.hera = Hera().start()
        self.addCleanup(self.hera.cleanup)
        self.group = self.hera.create_group("etl")

    def test_shell_job_runs_and_its_output_is_in_the_log(self):
        job = self.hera.create_job(self.group["id"], "hello", "echo hello from hera\necho oops >&2\n")
        ticket = self.hera.run_job(job["id"])
        run = self.hera.wait_run(ticket["run_id"])
        self.assertEqual(run["status"], "success", run)
        self.assertEqual(run["exit_code"], 0)
        self.assertEqual(run["trigger"], "manual")
        self.assertEqual(run["action_id"], ticket["action_id"])
        self.assertEqual(run["job_version"], 1)
        self.assertTrue(run["started_at"] and run["ended_at"])
        self.assertEqual(self.hera.log(run["id"]), "hello from hera\noops\n")
        runs = self.hera.get(f"/api/v1/runs?job_id={job['id']}")
        self.assertEqual(runs["total"], 1)
        self.assertEqual(runs["items"][0]["id"], run["id"])

    def test_slot_limit_holds_by_the_recorded_times(self):
        """Issue 14 defect 9: with --slots 2, runs' own started_at/ended_at never show a third
        run at once (a run's end is recorded before the next run takes its slot)."""
        hera = Hera(extra_args=["--slots", "2"]).start()
        self.addCleanup(hera.cleanup)
        group = hera.create_group("slots")
        job = hera.create_job(group["id"], "short", "sleep 0.05")
        tickets = [hera.run_job(job["id"]) for _ in range(40)]
        runs = [hera.wait_run(t["run_id"]) for t in tickets]
        self.assertEqual({r["status"] for r in runs}, {"success"})
        events = []
        for r in runs:
            # Ends sort before starts at the same instant: a slot handed over is not an overlap.
            events.append((r["started_at"], 1))
            events.append((r["ended_at"], -1))
        events.sort(key=lambda e: (datetime.datetime.fromisoformat(e[0]), e[1]))
        alive, most = 0, 0
        for _, step in events:
            alive += step
            most = max(most, alive)
        self.assertLessEqual(most, 2, "more runs overlapped than there are slots")

    def test_python_job_and_run_environment(self):
        job = self.hera.create_job(
            self.group["id"], "py", "import os\nprint(os.environ['HERA_RUN_ID'], os.environ['HERA_TRIGGER'])\n",
            type="python")
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        self.assertEqual(run["status"], "success", self.hera.log(run["id"]))
        self.assertEqual(self.hera.log(run["id"]), f"{run['id']} manual\n")

    def test_jobs_do_not_see_the_admin_password(self):
        # The server was started with HERA_ADMIN_PASSWORD in its environment (see hera_process).
        job = self.hera.create_job(self.group["id"], "env", "env | cut -d= -f1 | grep ^HERA_ | sort\n")
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        self.assertEqual(run["status"], "success", self.hera.log(run["id"]))
        run_vars = {"HERA_JOB_ID", "HERA_ACTION_ID", "HERA_RUN_ID", "HERA_ATTEMPT", "HERA_TRIGGER",
                    "HERA_SCHEDULED_TIME"}
        inherited = {k for k in os.environ if k.startswith("HERA_") and k != "HERA_ADMIN_PASSWORD"}
        self.assertEqual(self.hera.log(run["id"]).split(), sorted(run_vars | inherited))
        # Nor can a job read it from the server's /proc/<pid>/environ (its parent: the server),
        # where the variable's name stays, with its value wiped.
        job = self.hera.create_job(self.group["id"], "procenv",
                                   f"grep -c -a -F '{ADMIN_PASSWORD}' /proc/$PPID/environ || true\n"
                                   "tr '\\0' '\\n' < /proc/$PPID/environ | grep -c '^HERA_ADMIN_PASSWORD=.' || true\n")
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        self.assertEqual(run["status"], "success", self.hera.log(run["id"]))
        self.assertEqual(self.hera.log(run["id"]).split(), ["0", "0"])

    def test_exit_code_7_is_failed_with_the_code(self):
        job = self.hera.create_job(self.group["id"], "fails", "echo before\nexit 7\n")
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        self.assertEqual(run["status"], "failed")
        self.assertEqual(run["exit_code"], 7)
        self.assertIn("exit code 7", run["message"])
        actions = self.hera.get(f"/api/v1/jobs/{job['id']}/actions")["items"]
        self.assertEqual([a["status"] for a in actions], ["failed"])

    def test_cancel_kills_the_whole_tree(self):
        job = self.hera.create_job(self.group["id"], "sleepy", "sleep 300 &\nsleep 300\n")
        run_id = self.hera.run_job(job["id"])["run_id"]
        self.hera.wait_run(run_id, statuses=("running",))
        deadline = time.time() + 10
        while len(self.hera.processes_in_workdir()) < 3 and time.time() < deadline:
            time.sleep(0.05)  # bash and both sleeps
        self.assertGreaterEqual(len(self.hera.processes_in_workdir()), 2)
        cancelled = self.hera.post(f"/api/v1/runs/{run_id}/cancel")
        self.assertEqual(cancelled["id"], run_id)
        run = self.hera.wait_run(run_id)
        self.assertEqual(run["status"], "cancelled")
        self.assertIn("cancelled by admin", run["message"])
        self.assertEqual(self.hera.processes_in_workdir(), [])
        with self.assertRaises(ApiError) as e:
            self.hera.post(f"/api/v1/runs/{run_id}/cancel")
        self.assertEqual(e.exception.status, 409)

    def test_hard_timeout_kills_the_tree_and_fails_the_run(self):
        job = self.hera.create_job(self.group["id"], "slow", "echo start\nsleep 300 &\nsleep 300\n",
                                   timeout_s=1)
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        self.assertEqual(run["status"], "failed")
        self.assertIn("timeout", run["message"])
        self.assertEqual(self.hera.log(run["id"]), "start\n")
        self.assertEqual(self.hera.processes_in_workdir(), [])

    def test_live_log_stream_delivers_lines_while_the_run_is_running(self):
        job = self.hera.create_job(self.group["id"], "ticker",
                                   "for i in 1 2 3 4 5; do echo line $i; sleep 0.4; done\n")
        run_id = self.hera.run_job(job["id"])["run_id"]
        req = urllib.request.Request(f"{self.hera.base}/api/v1/runs/{run_id}/log/stream",
                                     headers={"Authorization": "Bearer " + self.hera.token})
        received, statuses_at_first_line, end = "", [], None
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.assertIn("text/event-stream", resp.headers["Content-Type"])
            event = None
            for raw in resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    if event == "log":
                        if not received:
                            statuses_at_first_line.append(
                                self.hera.get(f"/api/v1/runs/{run_id}")["status"])
                        self.assertEqual(data["offset"], len(received.encode()))
                        received += data["data"]
                    elif event == "end":
                        end = data
                        break
        self.assertEqual(received, "".join(f"line {i}\n" for i in range(1, 6)))
        # The first line arrived while the job was still running: a live tail, not a replay.
        self.assertEqual(statuses_at_first_line, ["running"])
        self.assertEqual(end["status"], "success")

    def test_log_stream_resumes_after_last_event_id_and_ends_with_the_run(self):
        job = self.hera.create_job(self.group["id"], "abc", "printf abcdef\n")
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        req = urllib.request.Request(f"{self.hera.base}/api/v1/runs/{run['id']}/log/stream",
                                     headers={"Authorization": "Bearer " + self.hera.token,
                                              "Last-Event-ID": "3"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()  # the server closes after the end event
        events = [block for block in text.split("\n\n") if block]
        self.assertEqual(events[0], "retry: 1000")
        self.assertEqual(events[1].split("\n")[:2], ["event: log", "id: 6"])
        self.assertEqual(json.loads(events[1].split("\ndata: ")[1]), {"offset": 3, "data": "def"})
        self.assertEqual(events[2].split("\n")[0], "event: end")
        self.assertEqual(json.loads(events[2].split("\ndata: ")[1])["status"], "success")
        self.assertEqual(len(events), 3)

    def test_log_offset_reads(self):
        job = self.hera.create_job(self.group["id"], "abc", "printf abcdef\n")
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        self.assertEqual(self.hera.get(f"/api/v1/runs/{run['id']}/log?offset=2"), "cdef")
        req = urllib.request.Request(f"{self.hera.base}/api/v1/runs/{run['id']}/log?offset=1&limit=2",
                                     headers={"Authorization": "Bearer " + self.hera.token})
        with urllib.request.urlopen(req) as resp:
            self.assertEqual(resp.read(), b"bc")
            self.assertEqual(resp.headers["X-Next-Offset"], "3")
            self.assertEqual(resp.headers["X-Run-Finished"], "true")

    def test_it_prints_the_address_it_listens_on(self):
        port = self.hera.base.rsplit(":", 1)[1]
        self.assertIn(f"Hera is running at http://127.0.0.1:{port} ", self.hera.server_log())
        # Every interface: said so, not "127.0.0.1" (in a network namespace of its own, so
        # nothing outside this test can reach it).
        data = tempfile.mkdtemp(prefix="hera-bind-")
        self.addCleanup(shutil.rmtree, data, True)
        script = (f"ip link set lo up && exec {HERA_BIN} standalone --data-dir {data} "
                  "--bind 0.0.0.0 --http-port 0 --grpc-port 0")
        proc = subprocess.Popen(["unshare", "-n", "sh", "-c", script], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True,
                                env=dict(os.environ, HERA_ADMIN_PASSWORD=ADMIN_PASSWORD))
        try:
            line = proc.stdout.readline()
            while line and not line.startswith("Hera is"):  # the server log comes first
                line = proc.stdout.readline()
            if not line and proc.wait(10) != 0:
                self.skipTest("cannot make a network namespace here (unshare -n)")
            self.assertRegex(line, r"^Hera is listening on 0\.0\.0\.0:\d+, every interface: "
                                   r"open http://127\.0\.0\.1:\d+ here")
        finally:
            proc.terminate()
            proc.wait(30)

    def test_every_endpoint_but_login_and_healthz_needs_a_token(self):
        self.assertEqual(self.hera.get("/healthz", token=False), {"status": "ok"})
        for method, path in [("GET", "/api/v1/jobs"), ("GET", "/api/v1/groups"),
                             ("POST", "/api/v1/groups"), ("GET", "/api/v1/runs"),
                             ("GET", "/api/v1/runs/1/log"), ("POST", "/api/v1/jobs/1/run")]:
            with self.assertRaises(ApiError) as e:
                self.hera.request(method, path, body={} if method == "POST" else None, token=False)
            self.assertEqual(e.exception.status, 401, path)
            self.assertEqual(e.exception.body["error"]["code"], "UNAUTHENTICATED")
        with self.assertRaises(ApiError) as e:
            self.hera.get("/api/v1/jobs", token=False, headers={"Authorization": "Bearer nope"})
        self.assertEqual(e.exception.status, 401)
        with self.assertRaises(ApiError) as e:
            self.hera.login("admin", "wrong")
        self.assertEqual(e.exception.status, 401)

    def test_group_tree_and_delete_refused_while_not_empty(self):
        child = self.hera.create_group("daily", parent_id=self.group["id"])
        self.assertEqual(child["parent_id"], self.group["id"])
        with self.assertRaises(ApiError) as e:
            self.hera.request("DELETE", f"/api/v1/groups/{self.group['id']}")
        self.assertEqual(e.exception.status, 409)
        self.assertIn("not empty", e.exception.body["error"]["message"])
        self.hera.request("DELETE", f"/api/v1/groups/{child['id']}")
        self.hera.request("DELETE", f"/api/v1/groups/{self.group['id']}")
        self.assertEqual(self.hera.get("/api/v1/groups")["total"], 0)

    def test_job_update_and_delete(self):
        job = self.hera.create_job(self.group["id"], "j", "echo 1")
        updated = self.hera.request("PATCH", f"/api/v1/jobs/{job['id']}", {"script": "echo 2"})
        self.assertEqual(updated["version"], 2)
        self.assertEqual(updated["script"], "echo 2")
        revisions = self.hera.get(f"/api/v1/jobs/{job['id']}/revisions")["items"]
        self.assertEqual([r["version"] for r in revisions], [2, 1])
        self.assertEqual(revisions[0]["changed_fields"], ["script"])
        run = self.hera.wait_run(self.hera.run_job(job["id"])["run_id"])
        self.assertEqual(self.hera.log(run["id"]), "2\n")
        self.hera.request("DELETE", f"/api/v1/jobs/{job['id']}")
        with self.assertRaises(ApiError) as e:
            self.hera.get(f"/api/v1/jobs/{job['id']}")
        self.assertEqual(e.exception.status, 404)

    def test_bad_input_is_refused_naming_the_field_and_writes_nothing(self):
        gid = self.group["id"]
        self.hera.create_job(gid, "taken", "true")
        cases = [
            ({"name": "a", "group_id": gid, "script": "x", "colour": "red"}, 400, "colour"),
            ({"name": 5, "group_id": gid, "script": "x"}, 400, "name"),
            ({"group_id": gid, "script": "x"}, 400, "name"),
            ({"name": "a", "group_id": 999, "script": "x"}, 404, "group_id"),
            ({"name": "a", "group_id": "1", "script": "x"}, 400, "group_id"),
            ({"name": "taken", "group_id": gid, "script": "x"}, 409, "taken"),
            ({"name": "a", "group_id": gid, "script": "x" * (1024 * 1024 + 1)}, 400, "script"),
            ({"name": "a", "group_id": gid, "script": "x", "type": "cobol"}, 400, "type"),
            ({"name": "a", "group_id": gid, "script": "x", "retry": {"count": 99}}, 400, "retry.count"),
        ]
        for body, status, field in cases:
            with self.assertRaises(ApiError, msg=str(body)[:80]) as e:
                self.hera.post("/api/v1/jobs", body)
            self.assertEqual(e.exception.status, status, str(body)[:80])
            err = e.exception.body["error"]
            self.assertIn(field, err["message"])
            self.assertTrue(err["code"])
        with self.assertRaises(ApiError) as e:
            self.hera.request("POST", "/api/v1/jobs", raw=b"{not json")
        self.assertEqual(e.exception.status, 400)
        self.assertIn("not valid JSON", e.exception.body["error"]["message"])
        with self.assertRaises(ApiError) as e:
            self.hera.request("PATCH", "/api/v1/jobs/1", {"timeout_s": -1})
        self.assertEqual(e.exception.status, 400)
        # Nothing was written by any of them.
        jobs = self.hera.get("/api/v1/jobs")
        self.assertEqual([j["name"] for j in jobs["items"]], ["taken"])
        self.assertEqual(jobs["items"][0]["version"], 1)
        with self.assertRaises(ApiError) as e:
            self.hera.get("/api/v1/jobs?limit=0")
        self.assertEqual(e.exception.status, 400)

    def test_a_second_process_on_the_same_data_dir_refuses_to_start(self):
        out = subprocess.run([HERA_BIN, "standalone", "--data-dir", self.hera.data_dir,
                              "--http-port", "0", "--grpc-port", "0"],
                             capture_output=True, text=True, timeout=30)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("another hera process", out.stderr)
        self.assertIn(str(self.hera.proc.pid), out.stderr)


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class FirstStartTest(unittest.TestCase):
    def test_random_admin_password_is_printed_once(self):
        import re
        import shutil
        import tempfile
        data = tempfile.mkdtemp(prefix="hera-first-")
        self.addCleanup(shutil.rmtree, data, True)
        env = {k: v for k, v in os.environ.items() if k != "HERA_ADMIN_PASSWORD"}
        outputs = []
        for _ in range(2):
            out_path = os.path.join(data, "out.txt")
            with open(out_path, "w") as out:
                proc = subprocess.Popen([HERA_BIN, "standalone", "--data-dir", data, "--bind",
                                         "127.0.0.1", "--http-port", "0", "--grpc-port", "0"],
                                        stdout=out, stderr=subprocess.STDOUT, env=env)
            deadline = time.time() + 30
            while not os.path.exists(os.path.join(data, "ports.json")) and time.time() < deadline:
                time.sleep(0.05)
            with open(os.path.join(data, "ports.json")) as f:
                port = json.load(f)["http"]
            with open(out_path) as f:
                outputs.append((f.read(), port))
            if len(outputs) == 1:
                match = re.search(r"password (\S+)", outputs[0][0])
                self.assertIsNotNone(match, outputs[0][0])
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/auth/login",
                    data=json.dumps({"username": "admin", "password": match.group(1)}).encode())
                with urllib.request.urlopen(req) as resp:
                    self.assertIn("token", json.load(resp))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(30), 0)
        self.assertIn(f"http://127.0.0.1:{outputs[0][1]}", outputs[0][0])
        self.assertNotIn("password", outputs[1][0])


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class RestartTest(unittest.TestCase):
    def test_kill9_mid_run_then_restart_keeps_everything(self):
        hera = Hera().start()
        self.addCleanup(hera.cleanup)
        group = hera.create_group("etl")
        done = hera.create_job(group["id"], "done", "echo finished")
        done_run = hera.wait_run(hera.run_job(done["id"])["run_id"])
        slow = hera.create_job(group["id"], "slow", "echo started\nsleep 300\n")
        slow_run = hera.run_job(slow["id"])["run_id"]
        hera.wait_run(slow_run, statuses=("running",))
        deadline = time.time() + 10
        while "started" not in (hera.log(slow_run) or "") and time.time() < deadline:
            time.sleep(0.05)
        hera.kill9()

        hera.start()
        jobs = hera.get("/api/v1/jobs")["items"]
        self.assertEqual(sorted(j["name"] for j in jobs), ["done", "slow"])
        self.assertEqual(hera.get(f"/api/v1/runs/{done_run['id']}")["status"], "success")
        self.assertEqual(hera.log(done_run["id"]), "finished\n")
        interrupted = hera.get(f"/api/v1/runs/{slow_run}")
        self.assertEqual(interrupted["status"], "lost")
        self.assertIn("interrupted", interrupted["message"])
        self.assertEqual(hera.log(slow_run), "started\n")
        # The orphaned `sleep 300` of the killed process was ended at restart.
        self.assertEqual(hera.processes_in_workdir(), [])
        # And the server works: new ids continue after the old ones.
        again = hera.wait_run(hera.run_job(done["id"])["run_id"])
        self.assertEqual(again["status"], "success")
        self.assertGreater(again["id"], slow_run)

    def test_sigterm_cancels_running_jobs_and_exits_cleanly(self):
        hera = Hera().start()
        self.addCleanup(hera.cleanup)
        group = hera.create_group("etl")
        job = hera.create_job(group["id"], "slow", "sleep 300")
        run_id = hera.run_job(job["id"])["run_id"]
        hera.wait_run(run_id, statuses=("running",))
        self.assertEqual(hera.stop(signal.SIGTERM), 0)
        self.assertEqual(hera.processes_in_workdir(), [])
        self.assertFalse(os.path.exists(os.path.join(hera.data_dir, "ports.json")))
        hera.start()
        run = hera.get(f"/api/v1/runs/{run_id}")
        self.assertEqual(run["status"], "cancelled")
        self.assertIn("shut down", run["message"])


if __name__ == "__main__":
    unittest.main()
