"""Integration test of `hera ctl` against a real `hera standalone` (DESIGN.md §1, §7).

Runs when HERA_BIN names the hera binary (ctest sets it); skipped otherwise. Standard library
only. The server runs on free ports in a temporary data dir; ctl keeps its session in another
temporary dir through HERA_CONFIG_DIR.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

HERA_BIN = os.environ.get("HERA_BIN")
ADMIN_PASSWORD = "secret"
ERROR_LINE = re.compile(r"^error: .+ \([A-Z_]+\)$")


def _ctl_env(config_dir):
    env = {k: v for k, v in os.environ.items()
           if k not in ("HERA_SERVER", "HERA_TOKEN", "HERA_PASSWORD")}
    env["HERA_CONFIG_DIR"] = config_dir
    env["NO_COLOR"] = "1"
    return env


@unittest.skipUnless(HERA_BIN, "HERA_BIN is not set")
class CtlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="hera_ctl_data_")
        cls.config_dir = tempfile.mkdtemp(prefix="hera_ctl_config_")
        cls.server_log_path = os.path.join(cls.data_dir, "server.log")
        cls.server_log = open(cls.server_log_path, "wb")
        env = dict(os.environ, HERA_ADMIN_PASSWORD=ADMIN_PASSWORD)
        cls.server = subprocess.Popen(
            [HERA_BIN, "standalone", "--data-dir", cls.data_dir,
             "--bind", "127.0.0.1", "--http-port", "0", "--grpc-port", "0"],
            env=env, stdout=cls.server_log, stderr=subprocess.STDOUT)
        try:
            ports = cls._wait_for_ports()
            cls.url = "http://127.0.0.1:%d" % ports["http"]
            r = cls._run_ctl(["--server", cls.url, "login", "-u", "admin",
                              "-p", ADMIN_PASSWORD])
            if r.returncode != 0:
                raise AssertionError("login failed: %s\n%s" % (r.stderr, cls._server_tail()))
            r = cls._run_ctl(["group", "create", "ctl_itest"])
            if r.returncode != 0:
                raise AssertionError("group create failed: %s" % r.stderr)
            cls.group_id = int(r.stdout.strip())
        except BaseException:
            cls._stop_server()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._stop_server()
        shutil.rmtree(cls.config_dir, ignore_errors=True)
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    @classmethod
    def _wait_for_ports(cls):
        path = os.path.join(cls.data_dir, "ports.json")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if cls.server.poll() is not None:
                raise AssertionError("hera standalone exited with %d:\n%s"
                                     % (cls.server.returncode, cls._server_tail()))
            try:
                with open(path) as f:
                    ports = json.load(f)
                if ports.get("http"):
                    return ports
            except (OSError, ValueError):
                pass  # not written yet, or caught mid-write
            time.sleep(0.1)
        raise AssertionError("no %s after 60 s:\n%s" % (path, cls._server_tail()))

    @classmethod
    def _stop_server(cls):
        if cls.server.poll() is None:
            cls.server.send_signal(signal.SIGTERM)
            try:
                cls.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                cls.server.kill()
                cls.server.wait()
        cls.server_log.close()

    @classmethod
    def _server_tail(cls, lines=40):
        try:
            with open(cls.server_log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "--- server log ---\n" + "\n".join(text.splitlines()[-lines:])

    @classmethod
    def _run_ctl(cls, args, config_dir=None, timeout=120, stdin=None):
        return subprocess.run(
            [HERA_BIN, "ctl"] + args, env=_ctl_env(config_dir or cls.config_dir),
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout)

    # Helpers -----------------------------------------------------------------------------

    def ctl(self, *args, expect=0, **kwargs):
        r = self._run_ctl(list(args), **kwargs)
        if expect is not None and r.returncode != expect:
            self.fail("hera ctl %s: exit %d, want %d\nstdout: %s\nstderr: %s\n%s"
                      % (" ".join(args), r.returncode, expect, r.stdout, r.stderr,
                         self._server_tail()))
        return r

    def ctl_json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def create_job(self, name, script, *extra):
        r = self.ctl("job", "create", "--group", str(self.group_id), "--name", name,
                     "--script", script, *extra)
        return int(r.stdout.strip())

    def start_run(self, job_id):
        r = self.ctl("run", str(job_id))
        m = re.fullmatch(r"run (\d+) queued \(action (\d+)\)\n", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        return int(m.group(1))

    def wait_status(self, run_id, wanted, timeout=60):
        deadline = time.monotonic() + timeout
        run = None
        while time.monotonic() < deadline:
            run = self.ctl_json("status", str(run_id))
            if run["status"] in wanted:
                return run
            time.sleep(0.2)
        self.fail("run %d still %s after %d s, want %s\n%s"
                  % (run_id, run and run["status"], timeout, wanted, self._server_tail()))

    # Tests -------------------------------------------------------------------------------

    def test_login_saved_private_session(self):
        path = os.path.join(self.config_dir, "credentials.json")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            saved = json.load(f)
        self.assertEqual(saved["server"], self.url)
        self.assertEqual(saved["username"], "admin")
        self.assertTrue(saved["token"])

    def test_wrong_password_fails_clearly(self):
        other = tempfile.mkdtemp(prefix="hera_ctl_config_")
        try:
            r = self.ctl("--server", self.url, "login", "-p", "not-the-password",
                         config_dir=other, expect=1)
            self.assertRegex(r.stderr.strip(), ERROR_LINE)
            self.assertFalse(os.path.exists(os.path.join(other, "credentials.json")))
            # Without a session the server's 401 becomes a hint to log in.
            r = self.ctl("--server", self.url, "runs", config_dir=other, expect=1)
            self.assertEqual(
                r.stderr, "error: not logged in or session expired; run 'hera ctl login'\n")
        finally:
            shutil.rmtree(other, ignore_errors=True)

    def test_unreachable_server_exits_2(self):
        r = self.ctl("--server", "http://127.0.0.1:1", "runs", expect=2)
        self.assertTrue(r.stderr.startswith("error: cannot reach Hera at http://127.0.0.1:1: "),
                        r.stderr)

    def test_groups(self):
        child = int(self.ctl("group", "create", "child_of_itest", "--parent", str(self.group_id),
                             "--description", "a child").stdout)
        listing = self.ctl("group", "list").stdout
        self.assertTrue(listing.startswith("ID"), listing)
        self.assertIn("ctl_itest", listing)
        self.assertIn("child_of_itest", listing)
        groups = self.ctl_json("group", "list")
        by_id = {g["id"]: g for g in groups["items"]}
        self.assertEqual(by_id[child]["parent_id"], self.group_id)
        shown = self.ctl("group", "show", str(child)).stdout
        self.assertIn("a child", shown)
        self.ctl("group", "delete", str(child))
        r = self.ctl("group", "show", str(child), expect=1)
        self.assertRegex(r.stderr.strip(), ERROR_LINE)

    def test_groups_by_path_their_configs_and_the_tree(self):
        dw = int(self.ctl("group", "create", "dw_paths").stdout)
        ods = int(self.ctl("group", "create", "ods", "--parent", "dw_paths").stdout)
        self.assertEqual(self.ctl_json("group", "show", "dw_paths/ods")["parent_id"], dw)
        shown = self.ctl("group", "show", "dw_paths/ods").stdout
        self.assertRegex(shown, r"(?m)^path:\s+dw_paths/ods$")
        r = self.ctl("group", "show", "dw_paths/odx", expect=1)
        self.assertIn("'dw_paths' has no group 'odx' (its groups: ods)", r.stderr)

        # Configs set and unset without writing JSON; the job below inherits them.
        self.ctl("group", "configs", "set", "dw_paths/ods", "queue=etl", "owner_team=dw")
        self.ctl("group", "configs", "unset", "dw_paths/ods", "owner_team")
        self.assertEqual(self.ctl_json("group", "show", str(ods))["configs"], {"queue": "etl"})
        r = self.ctl("group", "configs", "unset", "dw_paths/ods", "nope", expect=1)
        self.assertIn("has no config 'nope'", r.stderr)

        # Jobs addressed to the group by path, with upstreams, configs, a host group and zone.
        up = int(self.ctl("job", "create", "--group", "dw_paths/ods", "--name", "extract",
                          "--script", "echo e", "--cron", "0 30 1 * * ?",
                          "--timezone", "Asia/Shanghai").stdout)
        down = int(self.ctl("job", "create", "--group", "dw_paths/ods", "--name", "load",
                            "--script", "echo ${queue}", "--depends-on", f"{up}:all_of_day",
                            "--config", "tmp=1", "--host-group", "default",
                            "--self-dependency", "true", "--allow-concurrent", "false",
                            "--missed-policy", "run_latest", "--priority", "high").stdout)
        job = self.ctl_json("job", "show", str(down))
        self.assertEqual(job["group_id"], ods)
        self.assertEqual(job["schedule"]["depends_on"],
                         [{"job_id": up, "period": "all_of_day"}])
        self.assertTrue(job["schedule"]["self_dependency"])
        self.assertEqual(job["configs"], {"tmp": "1"})
        self.assertEqual((job["allow_concurrent"], job["missed_policy"], job["priority"]),
                         (False, "run_latest", "high"))
        shown = self.ctl("job", "show", str(down)).stdout
        self.assertRegex(shown, rf"(?m)^group:\s+dw_paths/ods \({ods}\)$")
        self.assertRegex(shown, r"(?m)^timezone:\s+Asia/Shanghai: inherited from upstream job")
        r = self.ctl("job", "create", "--group", "dw_paths/ods", "--name", "bad",
                     "--script", "true", "--depends-on", f"{up}:weekly", expect=1)
        self.assertIn("unknown period 'weekly'", r.stderr)

        self.ctl("job", "update", str(down), "--no-depends-on", "--unset-config", "tmp",
                 "--config", "day=1")
        job = self.ctl_json("job", "show", str(down))
        self.assertEqual(job["schedule"]["depends_on"], [])
        self.assertEqual(job["configs"], {"day": "1"})
        listed = self.ctl_json("job", "list", "--group", "dw_paths/ods")["items"]
        self.assertEqual(sorted(j["name"] for j in listed), ["extract", "load"])

        tree = self.ctl("group", "tree").stdout
        self.assertIn("dw_paths/  (group %d)\n  ods/  (group %d)\n" % (dw, ods), tree)
        self.assertIn("    extract  (job %d, shell, disabled)\n" % up, tree)

        # Rename and move; then the path follows.
        self.ctl("group", "update", "dw_paths/ods", "--name", "ods2", "--description", "raw")
        self.assertEqual(self.ctl_json("group", "show", "dw_paths/ods2")["description"], "raw")
        top = int(self.ctl("group", "create", "warehouse").stdout)
        self.ctl("group", "update", "dw_paths/ods2", "--parent", "warehouse")
        self.assertEqual(self.ctl_json("group", "show", "warehouse/ods2")["parent_id"], top)
        r = self.ctl("group", "update", "warehouse/ods2", expect=1)
        self.assertIn("nothing to change", r.stderr)
        for job_id in (down, up):
            self.ctl("job", "delete", str(job_id))
        self.ctl("group", "delete", "warehouse/ods2")
        self.ctl("group", "delete", "dw_paths")

    def test_backfill_from_the_command_line(self):
        up = int(self.ctl("job", "create", "--group", str(self.group_id), "--name", "bf_up",
                          "--script", "true", "--cron", "0 0 2 * * ?").stdout)
        down = int(self.ctl("job", "create", "--group", str(self.group_id), "--name", "bf_down",
                            "--script", "true", "--depends-on", str(up)).stdout)
        args = ["backfill", "start", "--job", str(up), "--from", "2026-01-01T00:00:00Z",
                "--to", "2026-01-03T23:59:59Z", "--downstream", "-p", "2"]
        dry = self.ctl(*args, "--dry-run").stdout
        self.assertIn("backfill (dry run): running (0 done, 0 failed, 0 running, 6 waiting", dry)
        self.assertEqual(self.ctl_json("backfill", "list")["total"], 0)
        started = self.ctl_json(*args)
        deadline = time.monotonic() + 60
        while self.ctl_json("backfill", "show", str(started["id"]))["status"] != "done":
            self.assertLess(time.monotonic(), deadline, "the backfill did not finish: " +
                            self.ctl("backfill", "show", str(started["id"])).stdout +
                            self._server_tail())
            time.sleep(0.2)
        shown = self.ctl("backfill", "show", str(started["id"])).stdout
        self.assertIn("done (6 done, 0 failed", shown)
        self.assertIn("2026-01-02", shown)
        self.assertIn(str(started["id"]), self.ctl("backfill", "list").stdout)
        r = self.ctl("backfill", "resume", str(started["id"]), expect=1)
        self.assertIn("is done", r.stderr)
        for job_id in (down, up):
            self.ctl("job", "delete", str(job_id))

    def test_every_command_shows_an_example_in_its_help(self):
        for command in (["group", "configs", "set"], ["job", "create"], ["rerun", "start"],
                        ["log"], ["worker", "drain"]):
            r = self.ctl(*command, "--help")
            self.assertIn("Example: hera ctl " + " ".join(command[:2]), r.stdout)

    def test_job_create_list_show_update(self):
        job_id = self.create_job("flags_job", "echo from-flags", "--description", "made by flags",
                                 "--timeout", "600", "--retry", "1", "--retry-interval", "5",
                                 "--config", "team=data")
        job = self.ctl_json("job", "show", str(job_id))
        self.assertEqual(job["name"], "flags_job")
        self.assertEqual(job["group_id"], self.group_id)
        self.assertEqual(job["type"], "shell")
        self.assertEqual(job["script"], "echo from-flags")
        self.assertEqual(job["timeout_s"], 600)
        self.assertEqual(job["retry"]["count"], 1)
        self.assertEqual(job["retry"]["interval_s"], 5)
        self.assertEqual(job["configs"], {"team": "data"})

        shown = self.ctl("job", "show", str(job_id)).stdout
        self.assertIn("made by flags", shown)
        self.assertTrue(shown.rstrip("\n").endswith("echo from-flags"), shown)

        # A whole definition from a file; a flag overrides its name.
        definition = {"name": "file_name", "group_id": self.group_id, "type": "shell",
                      "script": "echo from-file", "description": "from a file",
                      "configs": {"a": "1"}}
        path = os.path.join(self.config_dir, "job.json")
        with open(path, "w") as f:
            json.dump(definition, f)
        file_job = int(self.ctl("job", "create", "--file", path, "--name", "file_job").stdout)
        job = self.ctl_json("job", "show", str(file_job))
        self.assertEqual(job["name"], "file_job")
        self.assertEqual(job["script"], "echo from-file")
        self.assertEqual(job["description"], "from a file")

        # `job show --json` output can be fed back with --file.
        with open(path, "w") as f:
            json.dump(job, f)
        copy = int(self.ctl("job", "create", "--file", path, "--name", "file_job_copy").stdout)
        self.assertEqual(self.ctl_json("job", "show", str(copy))["script"], "echo from-file")

        listing = self.ctl("job", "list", "--group", str(self.group_id)).stdout
        self.assertTrue(listing.startswith("ID"), listing)
        for name in ("flags_job", "file_job", "file_job_copy"):
            self.assertIn(name, listing)
        found = self.ctl_json("job", "list", "-q", "file_job_copy")
        self.assertIn(copy, [j["id"] for j in found["items"]])
        limited = self.ctl_json("job", "list", "--group", str(self.group_id), "--limit", "1")
        self.assertEqual(len(limited["items"]), 1)

        # Update changes only the given fields; --config adds to the existing configs.
        self.ctl("job", "update", str(file_job), "--description", "changed", "--config", "b=2")
        job = self.ctl_json("job", "show", str(file_job))
        self.assertEqual(job["description"], "changed")
        self.assertEqual(job["script"], "echo from-file")
        self.assertEqual(job["configs"], {"a": "1", "b": "2"})

        self.ctl("job", "delete", str(copy))
        self.ctl("job", "show", str(copy), expect=1)

    def test_bad_input_prints_server_message(self):
        r = self.ctl("job", "create", "--group", "987654", "--name", "orphan",
                     "--script", "true", expect=1)
        self.assertRegex(r.stderr.strip(), ERROR_LINE)
        r = self.ctl("group", "create", "", expect=1)
        self.assertRegex(r.stderr.strip(), ERROR_LINE)
        # Caught locally, before any request.
        r = self.ctl("job", "create", "--group", str(self.group_id), "--name", "x",
                     "--script", "true", "--config", "no-equals-sign", expect=1)
        self.assertEqual(r.stderr, "error: --config 'no-equals-sign': expected KEY=VALUE\n")

    def test_run_wait_success(self):
        job_id = self.create_job("hello_job", "echo hello")
        r = self.ctl("run", str(job_id), "--wait")
        self.assertIn("hello", r.stdout)
        self.assertRegex(r.stderr, r"run \d+ queued \(action \d+\)")
        self.assertRegex(r.stderr, r"run \d+ success")

    def test_run_wait_failure_and_status(self):
        job_id = self.create_job("exit7_job", "echo before-exit; exit 7")
        r = self.ctl("run", str(job_id), "--wait", expect=1)
        self.assertIn("before-exit", r.stdout)
        m = re.search(r"run (\d+) failed \(exit code 7\)", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        run_id = m.group(1)
        status = self.ctl("status", run_id).stdout
        self.assertRegex(status, r"(?m)^exit code:\s+7$")
        self.assertRegex(status, r"(?m)^status:\s+failed$")
        self.assertEqual(self.ctl_json("status", run_id)["exit_code"], 7)
        # Following the failed run's log says the same as --wait: exit 1, the run on stderr.
        followed = self.ctl("log", run_id, "--follow", expect=1)
        self.assertIn("before-exit", followed.stdout)
        self.assertRegex(followed.stderr, r"run \d+ failed \(exit code 7\)")

    def test_an_unknown_command_is_named(self):
        r = self.ctl("foo", expect=109)
        self.assertIn("'foo' is not a command of 'hera ctl'", r.stderr)
        self.assertIn("job, run", r.stderr)
        r = self.ctl("job", "lst", expect=109)
        self.assertIn("'lst' is not a command of 'hera ctl job' (its commands: create, list",
                      r.stderr)

    def test_log_follow_streams_while_running(self):
        script = "for i in 1 2 3 4 5; do echo line$i; sleep 0.5; done"
        run_id = self.start_run(self.create_job("slow_printer", script))
        proc = subprocess.Popen([HERA_BIN, "ctl", "log", str(run_id), "-f"],
                                env=_ctl_env(self.config_dir), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = []
        try:
            for raw in iter(proc.stdout.readline, b""):
                lines.append((time.monotonic(), raw.decode()))
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(proc.returncode, 0, stderr)
        expected = "".join("line%d\n" % i for i in range(1, 6))
        self.assertEqual("".join(text for _, text in lines), expected)
        # Followed, not read at the end: the first line came well before the last.
        self.assertGreater(lines[-1][0] - lines[0][0], 1.0)

        # Afterwards the stored log is the same, and --offset skips bytes.
        self.wait_status(run_id, ("success",))
        self.assertEqual(self.ctl("log", str(run_id)).stdout, expected)
        self.assertEqual(self.ctl("log", str(run_id), "--offset", "6").stdout,
                         expected[len("line1\n"):])
        # -f on a finished run prints the rest and ends.
        self.assertEqual(self.ctl("log", str(run_id), "-f", timeout=60).stdout, expected)

    def test_cancel_long_run(self):
        run_id = self.start_run(self.create_job("sleeper", "sleep 300"))
        self.wait_status(run_id, ("running",))
        r = self.ctl("cancel", str(run_id))
        self.assertIn("run %d" % run_id, r.stdout)
        run = self.wait_status(run_id, ("cancelled", "failed", "success", "lost"), timeout=60)
        self.assertEqual(run["status"], "cancelled")

    def test_runs_list_and_json(self):
        job_id = self.create_job("listed_job", "echo listed")
        self.ctl("run", str(job_id), "--wait")
        table = self.ctl("runs", "--job", str(job_id)).stdout
        header = table.splitlines()[0].split()
        self.assertEqual(header, ["ID", "JOB", "TRIGGER", "STATUS", "EXIT", "WORKER", "QUEUED",
                                  "DURATION"])
        self.assertIn("success", table)
        runs = self.ctl_json("runs", "--job", str(job_id), "--status", "success")
        self.assertGreaterEqual(runs["total"], 1)
        self.assertTrue(all(r["job_id"] == job_id for r in runs["items"]))
        # --json may also follow the subcommand.
        again = json.loads(self.ctl("runs", "--job", str(job_id), "--limit", "1",
                                    "--json").stdout)
        self.assertEqual(len(again["items"]), 1)
        self.assertEqual(again["items"][0]["status"], "success")


if __name__ == "__main__":
    unittest.main()
