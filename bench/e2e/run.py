#!/usr/bin/env python3
"""End-to-end workload runner for Hera (the W1-W4 workloads of BENCH.md), beside ninja and make.

usage: bench/e2e/run.py [--reps N] [--workloads W1,W2,W3,W4] [--slots N] [--workers N]
                        [--w1 1job,1000jobs]
                        [--w3 roots50,root1] [--peers] [--tmpfs] [--tmp-root DIR]
                        [--hera PATH] [--keep]

Every (workload, rep) starts its own `hera standalone` on a fresh data directory, creates the
workload's jobs through the HTTP API (untimed), then starts the timed part: the first run
submission (W1, W4) or the first recovery (W2, W3). Wall time is read from the runs' own
`queued_at` / `ended_at` in the store (GET /api/v1/runs), never from the polling here:
    wall = max(ended_at of the workload's runs) - min(queued_at of the workload's runs)

Rows `peer workload variant rep wall_s tasks note` go to $RESULTS_DIR/hera.tsv (default: a new
bench/e2e/results/<UTC time>/ per invocation), the format of /work/shared/bench/peers, so
peers/common/summarize.py merges them. --peers also runs peers/ninja/run.sh and peers/make/run.sh
into the same directory, and make with every task as `bash s.sh` (peer make-bash: the floor for
shell jobs, which run through bash), one rep of each after each rep of Hera so that the machine's
drift hits all alike; then it prints the summary and the ratios to ninja and to make-bash.
Python 3 standard library only.
"""
import argparse
import concurrent.futures as cf
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PEERS = os.environ.get("PEERS_DIR", "/work/shared/bench/peers")
PASSWORD = "bench-e2e-secret"
TASKS = {"W1": 1000, "W2": 200, "W3": 1000, "W4": 200}
W3_LAYERS, W3_WIDTH = 20, 50
W4_IDEAL = 200 * 0.1 / 8
ROOT_CRON = {"cron": "0 0 0 * * ?", "timezone": "UTC"}  # fired at 00:00 UTC today: skipped


class BenchError(Exception):
    pass


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_time(s):
    return dt.datetime.fromisoformat(s).timestamp() if s else None


# ---------------------------------------------------------------- HTTP client


class Api:
    """A small JSON client: one keep-alive connection per thread."""

    def __init__(self, port):
        self.port = port
        self.token = None
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.local.conn = c
        return c

    def call(self, method, path, body=None, ok=(200, 201, 202, 204)):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            c = self._conn()
            try:
                c.request(method, "/api/v1" + path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                c.close()
                self.local.conn = None
                if attempt:
                    raise
        if r.status not in ok:
            raise BenchError(f"{method} {path} -> {r.status} {raw[:500].decode(errors='replace')}")
        return json.loads(raw) if raw else None


# ---------------------------------------------------------------- server


class Hera:
    """`hera standalone` with `slots`, or (workers > 0) `hera server` without a local worker
    plus `workers` `hera worker` processes sharing the slots, all on loopback."""

    def __init__(self, binary, slots, keep, tmp_root=None, workers=0):
        self.binary, self.slots, self.keep, self.workers = binary, slots, keep, workers
        self.dir = tempfile.mkdtemp(prefix="hera-e2e-", dir=tmp_root)
        self.proc = None
        self.worker_procs = []
        self.api = None

    def start(self):
        env = dict(os.environ, HERA_ADMIN_PASSWORD=PASSWORD, TZ="UTC")
        self.logf = open(os.path.join(self.dir, "server.log"), "wb")
        if self.workers:
            token = os.path.join(self.dir, "cluster.token")
            with open(token, "w") as f:
                f.write("bench-cluster-token\n")
            # The load limit would hold runs back on a 2-core machine that runs the jobs, the
            # master and the workers at once; the peers have no such limit either.
            args = [self.binary, "server", "--slots", "0", "--token-file", token,
                    "--max-load-per-core", "1000"]
        else:
            args = [self.binary, "standalone", "--slots", str(self.slots)]
        self.proc = subprocess.Popen(
            args + ["--data-dir", self.dir, "--bind", "127.0.0.1", "--http-port", "0",
                    "--grpc-port", "0"],
            env=env, stdout=self.logf, stderr=subprocess.STDOUT)
        ports = os.path.join(self.dir, "ports.json")
        deadline = time.time() + 30
        while not os.path.exists(ports):
            if self.proc.poll() is not None:
                raise BenchError(f"hera exited with {self.proc.returncode}: {self.log_tail()}")
            if time.time() > deadline:
                raise BenchError("no ports.json after 30 s: " + self.log_tail())
            time.sleep(0.02)
        with open(ports) as f:
            p = json.load(f)
        self.api = Api(p["http"])
        self.api.token = self.api.call("POST", "/auth/login",
                                       {"username": "admin", "password": PASSWORD})["token"]
        for i in range(self.workers):
            wdir = os.path.join(self.dir, f"worker{i + 1}")
            os.makedirs(wdir)
            self.worker_procs.append(subprocess.Popen(
                [self.binary, "worker", "--master", f"127.0.0.1:{p['grpc']}", "--id",
                 f"w{i + 1}", "--slots", str(max(1, self.slots // self.workers)),
                 "--data-dir", wdir, "--token-file", os.path.join(self.dir, "cluster.token")],
                env=env, stdout=self.logf, stderr=subprocess.STDOUT))
        deadline = time.time() + 30
        while self.workers:
            online = [w for w in self.api.call("GET", "/workers")["items"] if w["state"] == "online"]
            if len(online) >= self.workers:
                break
            if time.time() > deadline:
                raise BenchError("workers did not come online in 30 s: " + self.log_tail())
            time.sleep(0.05)
        return self

    def thread_cpu(self):
        """CPU seconds per thread name (hera-runner, hera-engine, ...) over the master and its
        workers; unnamed threads count as 'other'."""
        by_name = {}
        for proc in [self.proc] + self.worker_procs:
            task = f"/proc/{proc.pid}/task"
            try:
                tids = os.listdir(task)
            except OSError:
                continue
            for tid in tids:
                try:
                    with open(f"{task}/{tid}/stat") as f:
                        name, rest = f.read().split("(", 1)[1].rsplit(")", 1)
                    fields = rest.split()
                except (OSError, IndexError):
                    continue
                name = name.removeprefix("hera-") if name.startswith("hera-") else "other"
                by_name[name] = by_name.get(name, 0.0) + (
                    int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return by_name

    def cpu_seconds(self):
        """CPU time of the master and its workers (not of the jobs they run). Each call also
        keeps the per-thread split, for cpu_split()."""
        self.thread_marks = getattr(self, "thread_marks", [])[-1:] + [self.thread_cpu()]
        total = 0.0
        for proc in [self.proc] + self.worker_procs:
            try:
                with open(f"/proc/{proc.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except OSError:
                return float("nan")
        return total

    def cpu_split(self):
        """Where Hera's CPU went between the last two cpu_seconds() calls, by thread."""
        if len(getattr(self, "thread_marks", [])) < 2:
            return ""
        a, b = self.thread_marks
        d = {k: v - a.get(k, 0.0) for k, v in b.items()}
        return ", ".join(f"{k} {v:.2f}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])
                         if v >= 0.005)

    def rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def log_tail(self, n=15):
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, failed=False):
        for w in self.worker_procs:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in self.worker_procs:
            try:
                w.wait(20)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                log(f"hera pid {self.proc.pid} did not stop on SIGTERM in 20 s; killing it")
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "logf", None):
            self.logf.close()
        if failed or self.keep:
            log(f"  data dir kept: {self.dir}")
            return None
        # Deleted only after all of Hera's workloads: ext4 scans recently deleted inodes on
        # every file it creates (recently_deleted() in the kernel), so removing thousands of
        # files between workloads would slow the next one's per-run file creation.
        return self.dir


# ---------------------------------------------------------------- workload helpers


def parallel(fn, items, threads=4):
    with cf.ThreadPoolExecutor(threads) as ex:
        return list(ex.map(fn, items))


def shell_job(api, group, name, script="true", schedule=None, enabled=False):
    body = {"name": name, "group_id": group, "type": "shell", "script": script}
    if schedule:
        body["schedule"] = schedule
    if enabled:
        body["enabled"] = True
    return api.call("POST", "/jobs", body)["id"]


def today_action(api, job):
    """The job's skipped action of today (its cron fired before the job existed)."""
    now = time.time()
    acts = api.call("GET", f"/jobs/{job}/actions")["items"]
    past = [a for a in acts if parse_time(a["scheduled_time"]) <= now]
    if not past:
        raise BenchError(f"job {job} has no action before now: {acts}")
    a = min(past, key=lambda a: a["scheduled_time"])
    if a["status"] != "skipped":
        log(f"  note: job {job} action {a['id']} is {a['status']} ({a.get('reason')}), not skipped")
    return a["id"]


def wait_done(api, expected, jobs_hint=None, timeout=300, stall=30):
    """Poll until `expected` runs succeeded. Returns '' or a problem description."""
    t0 = last_change = time.time()
    last = -1
    while True:
        succ = api.call("GET", "/runs?status=success&limit=1")["total"]
        if succ >= expected:
            return ""
        if succ != last:
            last, last_change = succ, time.time()
        now = time.time()
        bad = sum(api.call("GET", f"/runs?status={s}&limit=1")["total"]
                  for s in ("failed", "lost", "cancelled"))
        if bad:
            return f"{bad} runs failed/lost/cancelled ({succ}/{expected} success)"
        if now - last_change > stall:
            return f"stalled: {succ}/{expected} runs success, none for {stall} s"
        if now - t0 > timeout:
            return f"timeout: {succ}/{expected} runs success after {timeout} s"
        time.sleep(0.25)


def all_runs(api):
    return api.call("GET", "/runs?limit=10000")["items"]


def window(runs):
    q = min(parse_time(r["queued_at"]) for r in runs)
    e = max(parse_time(r["ended_at"]) for r in runs if r["ended_at"])
    return q, e, e - q


def timing(runs):
    """Where a run's time goes, from the store's timestamps (medians, ms)."""
    w = [parse_time(r["started_at"]) - parse_time(r["queued_at"]) for r in runs if r["started_at"]]
    x = [parse_time(r["ended_at"]) - parse_time(r["started_at"])
         for r in runs if r["started_at"] and r["ended_at"]]
    if not x:
        return ""
    x.sort()
    return (f"queued->started median {statistics.median(w) * 1000:.1f}ms, "
            f"started->ended median {statistics.median(x) * 1000:.1f}ms "
            f"p90 {x[int(len(x) * 0.9)] * 1000:.1f}ms")


def hop_gaps(pairs):
    """Median ms from an upstream's ended_at to its downstream's queued_at."""
    g = [parse_time(d["queued_at"]) - parse_time(u["ended_at"]) for u, d in pairs
         if u and d and u["ended_at"]]
    return f"upstream ended->downstream queued median {statistics.median(g) * 1000:.1f}ms" if g else ""


def stalled_detail(api, jobs, runs):
    """For a stalled DAG: the first job without a run, its actions and reasons."""
    ran = {r["job_id"] for r in runs}
    for j in jobs:
        if j not in ran:
            acts = api.call("GET", f"/jobs/{j}/actions")["items"]
            return (f"first job without a run: {j}; its actions: " +
                    "; ".join(f"{a['id']}@{a['scheduled_time']} {a['status']} "
                              f"up={a.get('upstream')} {a.get('reason', '')}" for a in acts))
    return ""


# ---------------------------------------------------------------- workloads
# Each returns (wall_s, note, problem). `problem` non-empty marks the row BAD.


def w1(h, variant):
    api, group = h.api, h.group
    t = time.time()
    if variant == "1job":
        job = shell_job(api, group, "noop")
        targets = [job] * 1000
    else:  # 1000jobs
        targets = parallel(lambda i: shell_job(api, group, f"noop{i:04d}"), range(1000))
    setup = time.time() - t
    cpu0 = h.cpu_seconds()
    t_sub = time.time()
    parallel(lambda j: api.call("POST", f"/jobs/{j}/run", {"trigger": "manual"}), targets)
    submit_s = time.time() - t_sub
    problem = wait_done(api, 1000)
    cpu = h.cpu_seconds() - cpu0
    runs = all_runs(api)
    ok = [r for r in runs if r["status"] == "success"]
    if len(ok) != 1000 and not problem:
        problem = f"{len(ok)} of {len(runs)} runs success"
    q0, e1, wall = window(runs)
    lastq = max(parse_time(r["queued_at"]) for r in runs)
    note = (f"{1000 / wall:.0f} tasks/s; submit(client) {submit_s:.2f}s, queued span "
            f"{lastq - q0:.2f}s; {timing(runs)}; setup {setup:.1f}s; hera cpu {cpu:.2f}s ({h.cpu_split()})")
    return wall, note, problem


def chain_jobs(api, group, n):
    jobs = [shell_job(api, group, "c000", schedule=ROOT_CRON, enabled=True)]
    for i in range(1, n):
        jobs.append(shell_job(api, group, f"c{i:03d}", enabled=True,
                              schedule={"depends_on": [{"job_id": jobs[-1]}]}))
    return jobs


def w2(h, variant):
    api, group = h.api, h.group
    t = time.time()
    jobs = chain_jobs(api, group, 200)
    action = today_action(api, jobs[0])
    setup = time.time() - t
    cpu0 = h.cpu_seconds()
    api.call("POST", f"/jobs/{jobs[0]}/run", {"trigger": "recovery", "action_id": action})
    problem = wait_done(api, 200, stall=20)
    cpu = h.cpu_seconds() - cpu0
    runs = all_runs(api)
    by_job = {r["job_id"]: r for r in runs}
    if problem:
        problem += "; " + stalled_detail(api, jobs, runs)
    # Order check: each hop was queued after its upstream ended.
    for up, down in zip(jobs, jobs[1:]):
        a, b = by_job.get(up), by_job.get(down)
        if a and b and b["queued_at"] and parse_time(b["queued_at"]) < parse_time(a["ended_at"]):
            problem += f" ORDER: job {down} queued before job {up} ended"
            break
    root, last = by_job.get(jobs[0]), by_job.get(jobs[-1])
    if root and last and last["ended_at"]:
        wall = parse_time(last["ended_at"]) - parse_time(root["queued_at"])
    else:
        q0, e1, wall = window(runs) if runs else (0, 0, float("nan"))
    gaps = hop_gaps([(by_job.get(u), by_job.get(d)) for u, d in zip(jobs, jobs[1:])])
    note = (f"{wall / 200 * 1000:.1f} ms/hop; {len(runs)} runs; {gaps}; {timing(runs)}; "
            f"setup {setup:.1f}s; hera cpu {cpu:.2f}s ({h.cpu_split()})")
    return wall, note, problem


def w3(h, variant):
    api, group = h.api, h.group
    t = time.time()
    layers = []
    extra = None
    if variant == "root1":
        extra = shell_job(api, group, "root", schedule=ROOT_CRON, enabled=True)
        layers.append(parallel(lambda j: shell_job(
            api, group, f"l00_{j:02d}", enabled=True,
            schedule={"depends_on": [{"job_id": extra}]}), range(W3_WIDTH)))
    else:
        layers.append(parallel(lambda j: shell_job(
            api, group, f"l00_{j:02d}", schedule=ROOT_CRON, enabled=True), range(W3_WIDTH)))
    for i in range(1, W3_LAYERS):
        prev = layers[-1]

        def make(j, i=i, prev=prev):
            ups = sorted({prev[j], prev[(j + 1) % W3_WIDTH], prev[(j + 7) % W3_WIDTH]})
            return shell_job(api, group, f"l{i:02d}_{j:02d}", enabled=True,
                             schedule={"depends_on": [{"job_id": u} for u in ups]})
        layers.append(parallel(make, range(W3_WIDTH)))
    roots = [extra] if extra else layers[0]
    actions = parallel(lambda j: today_action(api, j), roots)
    setup = time.time() - t
    expected = W3_LAYERS * W3_WIDTH + (1 if extra else 0)
    cpu0 = h.cpu_seconds()
    parallel(lambda ja: api.call("POST", f"/jobs/{ja[0]}/run",
                                 {"trigger": "recovery", "action_id": ja[1]}),
             list(zip(roots, actions)))
    problem = wait_done(api, expected, stall=20)
    cpu = h.cpu_seconds() - cpu0
    runs = all_runs(api)
    order = [j for layer in layers for j in layer]
    if problem:
        problem += "; " + stalled_detail(api, ([extra] if extra else []) + order, runs)
    by_job = {r["job_id"]: r for r in runs}
    for i in range(1, W3_LAYERS):  # dependency check
        for j in range(W3_WIDTH):
            d = by_job.get(layers[i][j])
            if not d:
                continue
            for u in (j, (j + 1) % W3_WIDTH, (j + 7) % W3_WIDTH):
                up = by_job.get(layers[i - 1][u])
                if up and up["ended_at"] and parse_time(d["queued_at"]) < parse_time(up["ended_at"]):
                    problem += f" ORDER: job {layers[i][j]} queued before upstream {layers[i-1][u]} ended"
    q0, e1, wall = window(runs)
    note = (f"{len(runs)} runs ({'1 extra root recovered' if extra else '50 roots recovered'}); "
            f"{timing(runs)}; setup {setup:.1f}s; hera cpu {cpu:.2f}s ({h.cpu_split()})")
    return wall, note, problem


def w4(h, variant):
    api, group = h.api, h.group
    job = shell_job(api, group, "sleeper", script="sleep 0.1")
    cpu0 = h.cpu_seconds()
    parallel(lambda _: api.call("POST", f"/jobs/{job}/run", {"trigger": "manual"}), range(200))
    problem = wait_done(api, 200)
    cpu = h.cpu_seconds() - cpu0
    runs = all_runs(api)
    q0, e1, wall = window(runs)
    # Concurrency check: never more than 8 running at once.
    ev = sorted([(parse_time(r["started_at"]), 1) for r in runs if r["started_at"]] +
                [(parse_time(r["ended_at"]), -1) for r in runs if r["ended_at"]])
    cur = peak = 0
    for _, d in ev:
        cur += d
        peak = max(peak, cur)
    if peak > 8:
        problem += f" {peak} runs overlapped (limit 8)"
    note = (f"+{wall - W4_IDEAL:.2f}s over ideal (+{(wall / W4_IDEAL - 1) * 100:.0f}%); "
            f"peak running {peak}; {timing(runs)}; hera cpu {cpu:.2f}s ({h.cpu_split()})")
    return wall, note, problem


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4}


# ---------------------------------------------------------------- main


def record(results, peer, wl, var, rep, wall, tasks, note):
    with open(os.path.join(results, f"{peer}.tsv"), "a") as f:
        f.write(f"{peer}\t{wl}\t{var}\t{rep}\t{wall:.4f}\t{tasks}\t{note}\n")


def fs_type(path):
    """The file system type of the mount holding `path` (from /proc/mounts)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    try:
        for line in open("/proc/mounts"):
            mnt, typ = line.split()[1], line.split()[2]
            if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, kind = mnt, typ
    except OSError:
        pass
    return kind


def run_hera(args, results, reps=None, to_delete=None):
    """Hera's reps (default 1..--reps) of every workload; data dirs are deleted at the end, or
    added to `to_delete` when the caller deletes them later."""
    rows = {}
    plan = []
    for wl in args.workloads:
        variants = {"W1": args.w1, "W3": args.w3}.get(wl, [""])
        for v in variants:
            plan.append((wl, v))
    roots = [args.tmp_root] + (["/dev/shm"] if args.tmpfs else [])
    delete_here = to_delete is None
    to_delete = [] if delete_here else to_delete
    for rep in reps or range(1, args.reps + 1):
        for root, (wl, v) in [(r, p) for r in roots for p in plan]:
            fs = fs_type(root or tempfile.gettempdir())
            peer = "hera-tmpfs" if fs == "tmpfs" else "hera"
            if args.workers:
                peer += f"-{args.workers}workers"
            slots = 8 if wl == "W4" else args.slots
            var = f"slots{slots}" + (f":{v}" if v else "") + f":{fs}"
            h = Hera(args.hera, slots, args.keep, root, workers=args.workers)
            failed = False
            try:
                h.start()
                h.group = h.api.call("POST", "/groups", {"name": f"bench-{wl}"})["id"]
                wall, note, problem = WORKLOADS[wl](h, v)
                note += f"; peak rss {h.rss_mb():.0f} MB"
                if problem:
                    failed = True
                    note = f"BAD: {problem}; {note}"
                    log(f"  server log tail ({h.dir}/server.log):\n{h.log_tail()}")
            except Exception as e:  # noqa: BLE001 - report and go on with the next workload
                failed = True
                wall, note = float("nan"), f"BAD: {type(e).__name__}: {e}"
                log(f"  server log tail ({h.dir}/server.log):\n{h.log_tail()}")
            finally:
                d = h.stop(failed)
                if d:
                    to_delete.append(d)
            incomplete = any(w in note for w in ("stalled:", "timeout:", "failed/lost/cancelled"))
            if wall == wall and not incomplete:  # a stalled workload's wall means nothing
                record(results, peer, wl, var, rep, wall, TASKS[wl], note)
            rows.setdefault((peer, wl, var), []).append(wall)
            log(f"{peer:10} {wl:8} {var:22} rep={rep} wall_s={wall:.4f} tasks={TASKS[wl]} {note}")
    if delete_here:
        for d in to_delete:
            shutil.rmtree(d, ignore_errors=True)
    return rows


def run_bash_floor(args, results, reps=None):
    """GNU make running every task as `bash s.sh` (s.sh holds the task's command): the DAG as
    fast as this machine runs it when each task is a bash script, as Hera's shell jobs are.
    make execs a recipe without metacharacters directly, so no /bin/sh stands in between
    (ninja always adds one). Rows as peer 'make-bash'."""
    sys.path.insert(0, os.path.join(PEERS, "common"))
    from workloads import workload  # noqa: E402 (the peers' own definitions)
    base = tempfile.mkdtemp(prefix="hera-bash-floor-")
    try:
        for wl in args.workloads:
            tasks, cmd = workload(wl)
            d = os.path.join(base, wl)
            os.makedirs(d)
            with open(os.path.join(d, "s.sh"), "w") as f:
                f.write(cmd + "\n")
            with open(os.path.join(d, "Makefile"), "w") as f:
                f.write("all: " + " ".join(t for t, _ in tasks) + "\n")
                f.write(".PHONY: all " + " ".join(t for t, _ in tasks) + "\n\n")
                for tid, deps in tasks:
                    f.write(f"{tid}:" + "".join(" " + x for x in deps) + "\n\t@bash s.sh\n")
            jobs = "8" if wl == "W4" else str(args.slots)
            make = ["make", "-r", "-s", "-C", d, "-j", jobs]
            subprocess.run(make, check=True, stdout=subprocess.DEVNULL)  # warm-up
            for rep in reps or range(1, args.reps + 1):
                t0 = time.monotonic()
                subprocess.run(make, check=True, stdout=subprocess.DEVNULL)
                wall = time.monotonic() - t0
                record(results, "make-bash", wl, f"j{jobs}", rep, wall, TASKS[wl],
                       "each task `bash s.sh`, exec'd by make without /bin/sh")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def load(results):
    rows = {}
    for name in os.listdir(results):
        if not name.endswith(".tsv"):
            continue
        for line in open(os.path.join(results, name)):
            p = line.rstrip("\n").split("\t")
            if len(p) >= 6:
                rows.setdefault((p[0], p[1], p[2]), []).append(float(p[4]))
    return rows


def derived(wl, med):
    if wl in ("W1", "W3"):
        return f"{TASKS[wl] / med:,.0f} tasks/s"
    if wl == "W2":
        return f"{med / 200 * 1000:.1f} ms/hop"
    return f"+{med - W4_IDEAL:.2f} s (+{(med / W4_IDEAL - 1) * 100:.0f}%)"


def print_table(results):
    rows = load(results)
    order = {"hera": 0, "hera-tmpfs": 1, "ninja": 2, "make": 3, "make-bash": 4}
    peers = sorted({k[0] for k in rows}, key=lambda p: order.get(p, 9))
    ninja = {k[1]: statistics.median(v) for k, v in rows.items() if k[0] == "ninja"}
    floor = {k[1]: statistics.median(v) for k, v in rows.items() if k[0] == "make-bash"}
    print("\n| peer | workload | variant | runs | median wall s | derived | ratio to ninja "
          "| ratio to make-bash |")
    print("|---|---|---|---|---|---|---|---|")
    for p in peers:
        for (peer, wl, var), v in sorted(rows.items()):
            if peer != p:
                continue
            med = statistics.median(v)
            ratio = f"{med / ninja[wl]:.1f}x" if wl in ninja else "n/a"
            to_floor = f"{med / floor[wl]:.2f}x" if wl in floor else "n/a"
            print(f"| {peer} | {wl} | {var} | {len(v)} | {med:.3f} | {derived(wl, med)} | {ratio} "
                  f"| {to_floor} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=int(os.environ.get("REPS", 3)))
    ap.add_argument("--workloads", default="W1,W2,W3,W4")
    ap.add_argument("--slots", type=int, default=2, help="hera --slots for W1-W3 (W4 always 8)")
    ap.add_argument("--w1", default="1job", help="W1 variants: 1job (1 job run 1,000 times), 1000jobs")
    ap.add_argument("--w3", default="roots50", help="W3 variants: roots50 (recover the 50 layer-0 "
                    "roots), root1 (one extra root that layer 0 depends on)")
    ap.add_argument("--workers", type=int, default=0, help="run through `hera server` and this "
                    "many `hera worker` processes sharing --slots (0: hera standalone)")
    ap.add_argument("--hera", default=os.path.join(REPO, "build", "release", "hera"))
    ap.add_argument("--peers", action="store_true", help="also run ninja, make and make-bash (make "
                    "running each task as `bash s.sh`) into the same results")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    ap.add_argument("--tmpfs", action="store_true", help="also run every workload with the data dir "
                    "on /dev/shm (rows as peer 'hera-tmpfs')")
    ap.add_argument("--tmp-root", default=None, help="where the data dirs go (default: $TMPDIR or "
                    "/tmp; e.g. /dev/shm to take the disk's file system out of the figures)")
    args = ap.parse_args()
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    args.w1 = args.w1.split(",")
    args.w3 = args.w3.split(",")
    results = os.environ.get("RESULTS_DIR") or os.path.join(
        HERE, "results", dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    os.makedirs(results, exist_ok=True)
    log(f"results: {results}")
    if not os.access(args.hera, os.X_OK):
        sys.exit(f"no hera binary at {args.hera}: build it (cmake --preset release && "
                 f"cmake --build --preset release)")
    t0 = time.time()
    if args.peers:
        # One rep of each peer after each rep of Hera: the machine's speed drifts over minutes,
        # and a ratio means something only between runs made close together.
        env = dict(os.environ, REPS="1", RESULTS_DIR=results)
        to_delete = []
        for rep in range(1, args.reps + 1):
            run_hera(args, results, [rep], to_delete)
            for peer in ("ninja", "make"):
                subprocess.run(["bash", os.path.join(PEERS, peer, "run.sh"), *args.workloads],
                               env=env, check=True)
            run_bash_floor(args, results, [rep])
        for d in to_delete:
            shutil.rmtree(d, ignore_errors=True)
        log(f"all reps done in {time.time() - t0:.0f} s")
        print("\n## summarize.py (peers' format)\n", flush=True)
        subprocess.run([sys.executable, os.path.join(PEERS, "common", "summarize.py")],
                       env=env, check=False)
    else:
        run_hera(args, results)
        log(f"hera done in {time.time() - t0:.0f} s")
    print_table(results)
    log(f"total {time.time() - t0:.0f} s; rows in {results}")


if __name__ == "__main__":
    main()
