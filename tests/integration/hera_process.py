"""Starts and drives a real `hera standalone` process for integration tests (stdlib only)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

HERA_BIN = os.environ.get("HERA_BIN", "")
ADMIN_PASSWORD = "test-secret"


def poll(fn, timeout=60, interval=0.1):
    """fn()'s first truthy value within `timeout` seconds, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    return None


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class _Process:
    """What a started `hera` process (server or worker) offers: its log's tail, stop, kill -9.
    Subclasses set self.proc and self.log_path."""

    def log_tail(self):
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


class Hera(_Process):
    """One standalone server (or, with mode="server", a master node that serves remote
    workers) on free ports with its own data directory."""

    def __init__(self, data_dir=None, extra_args=(), mode="standalone", token="cluster-secret",
                 env=None):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="hera-itest-")
        self.extra_args = list(extra_args)
        self.mode = mode
        self.cluster_token = token
        self.proc = None
        self.env = env  # variables added to (or replacing) this process's for hera's
        self.base = None
        self.token = None
        self.grpc_port = None

    def start(self, timeout=30):
        env = dict(os.environ)
        env.update(self.env or {})
        env["HERA_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        self.log_path = os.path.join(self.data_dir, "server.log")
        os.makedirs(self.data_dir, exist_ok=True)
        ports = os.path.join(self.data_dir, "ports.json")
        if os.path.exists(ports):
            os.remove(ports)  # left by a process that was killed: not this one's
        args = [HERA_BIN, self.mode, "--data-dir", self.data_dir, "--bind", "127.0.0.1",
                "--http-port", "0", "--kill-grace", "1"]
        if self.mode == "server":
            token_file = os.path.join(self.data_dir, "cluster.token")
            with open(token_file, "w") as f:
                f.write(self.cluster_token + "\n")
            # The same port across restarts, so workers find the master again.
            args += ["--token-file", token_file,
                     "--grpc-port", str(self.grpc_port or free_port())]
        else:
            args += ["--grpc-port", "0"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args + self.extra_args, stdout=log,
                                         stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hera exited with {self.proc.returncode}: {self.server_log()}")
            if os.path.exists(ports):
                with open(ports) as f:
                    p = json.load(f)
                self.base = f"http://127.0.0.1:{p['http']}"
                self.grpc_port = p.get("grpc")
                self.token = self.login("admin", ADMIN_PASSWORD)
                return self
            time.sleep(0.05)
        raise RuntimeError("hera did not write ports.json in time: " + self.server_log())

    def server_log(self):
        return self.log_tail()

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


class Worker(_Process):
    """One `hera worker` process connected to a master (Hera with mode="server")."""

    def __init__(self, master, worker_id, host_groups=("default",), slots=4, token=None,
                 data_dir=None, extra_args=(), env=None):
        self.master = master
        self.id = worker_id
        self.host_groups = host_groups
        self.slots = slots
        self.token = token if token is not None else master.cluster_token
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"hera-worker-{worker_id}-")
        self.extra_args = list(extra_args)
        self.env = env
        self.proc = None

    def start(self):
        token_file = os.path.join(self.data_dir, "token")
        with open(token_file, "w") as f:
            f.write(self.token + "\n")
        self.log_path = os.path.join(self.data_dir, "worker.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [HERA_BIN, "worker", "--master", f"127.0.0.1:{self.master.grpc_port}",
                 "--host-groups", ",".join(self.host_groups), "--slots", str(self.slots),
                 "--data-dir", self.data_dir, "--token-file", token_file, "--id", self.id,
                 "--kill-grace", "1"] + self.extra_args,
                stdout=log, stderr=subprocess.STDOUT, env=self.env or dict(os.environ))
        return self

    def wait_online(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for w in self.master.get("/api/v1/workers")["items"]:
                if w["id"] == self.id and w["state"] == "online":
                    return w
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.id} exited: {self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"worker {self.id} not online: {self.log()}")

    def log(self):
        return self.log_tail()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
