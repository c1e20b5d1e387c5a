"""Starts and drives a real `hera standalone` process for integration tests (stdlib only)."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

HERA_BIN = os.environ.get("HERA_BIN", "")
ADMIN_PASSWORD = "test-secret"


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Hera:
    """One standalone server on free ports with its own data directory."""

    def __init__(self, data_dir=None, extra_args=()):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="hera-itest-")
        self.extra_args = list(extra_args)
        self.proc = None
        self.base = None
        self.token = None

    def start(self, timeout=30):
        env = dict(os.environ, HERA_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.log_path = os.path.join(self.data_dir, "server.log")
        os.makedirs(self.data_dir, exist_ok=True)
        ports = os.path.join(self.data_dir, "ports.json")
        if os.path.exists(ports):
            os.remove(ports)  # left by a process that was killed: not this one's
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [HERA_BIN, "standalone", "--data-dir", self.data_dir, "--bind", "127.0.0.1",
                 "--http-port", "0", "--grpc-port", "0", "--kill-grace", "1"] + self.extra_args,
                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hera exited with {self.proc.returncode}: {self.server_log()}")
            if os.path.exists(ports):
                with open(ports) as f:
                    self.base = f"http://127.0.0.1:{json.load(f)['http']}"
                self.token = self.login("admin", ADMIN_PASSWORD)
                return self
            time.sleep(0.05)
        raise RuntimeError("hera did not write ports.json in time: " + self.server_log())

    def server_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # --- HTTP ---------------------------------------------------------------------------------
    def request(self, method, path, body=None, raw=None, token=True, headers=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token and self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                payload = resp.read()
                ctype = resp.headers.get("Content-Type", "")
                if "json" in ctype and payload:
                    return json.loads(payload)
                return payload.decode(errors="replace") if payload else None
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = payload.decode(errors="replace")
            raise ApiError(e.code, parsed) from None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def login(self, username, password):
        return self.request("POST", "/api/v1/auth/login",
                            {"username": username, "password": password}, token=False)["token"]

    # --- helpers ------------------------------------------------------------------------------
    def create_group(self, name="etl", parent_id=None):
        body = {"name": name}
        if parent_id:
            body["parent_id"] = parent_id
        return self.post("/api/v1/groups", body)

    def create_job(self, group_id, name, script, **fields):
        body = dict(name=name, group_id=group_id, type="shell", script=script)
        body.update(fields)
        return self.post("/api/v1/jobs", body)

    def run_job(self, job_id):
        return self.post(f"/api/v1/jobs/{job_id}/run", {"trigger": "manual"})

    def wait_run(self, run_id, statuses=("success", "failed", "cancelled", "lost"), timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            run = self.get(f"/api/v1/runs/{run_id}")
            if run["status"] in statuses:
                return run
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not reach {statuses}: {run}")

    def log(self, run_id):
        return self.get(f"/api/v1/runs/{run_id}/log")

    def processes_in_workdir(self):
        """Pids of live processes whose cwd is inside this server's data directory."""
        root = os.path.realpath(self.data_dir)
        pids = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and (cwd == root or cwd.startswith(root + "/")):
                pids.append(int(pid))
        return pids
