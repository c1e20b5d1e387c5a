#!/usr/bin/env python3
"""Slow clients against a running hera (issue 14, defect 5): N connections that stay silent or
trickle a request header a byte at a time, plus K live-log streams (SSE), while a normal client
measures GET /healthz latency (a fresh connection per request), before and during the attack.

    build/release/hera standalone --data-dir /tmp/hera-bench --http-port 8080 &
    HERA_ADMIN_PASSWORD=... python3 bench/http_slowloris.py --port 8080

Connections come from many loopback source addresses (127.0.0.2, 127.0.0.3, ...; Linux routes
all of 127/8 to lo) with at most --per-address each, as many clients would: one address alone
would only meet the server's per-address cap. A connection the server closes (its header
deadline) is opened again, so the attack keeps its size. The streams need the admin password
(--password or HERA_ADMIN_PASSWORD): the script creates a job that prints a line every 0.5 s,
runs it, follows its log K times, and cancels the run at the end.

Python 3 standard library only.
"""

import argparse
import http.client
import json
import os
import resource
import selectors
import socket
import statistics
import sys
import threading
import time


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < need:
        print(f"warning: only {soft} open files allowed here; {need} wanted", file=sys.stderr)
    return soft


def api(host, port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status >= 300:
        raise RuntimeError(f"{method} {path}: {resp.status} {data[:200]!r}")
    return json.loads(data) if data else None


def source_addresses(first_octets, per_address):
    """Yields loopback source addresses, each `per_address` times."""
    a, b = first_octets
    while True:
        for c in range(2, 255):
            for _ in range(per_address):
                yield f"127.{a}.{b}.{c}"
        b += 1


class Crowd:
    """The slow connections and the streams, kept open by one selector loop."""

    def __init__(self, args, stream_path, token):
        self.args = args
        self.sel = selectors.DefaultSelector()
        self.idle_sources = source_addresses((0, 0), args.per_address)
        self.stream_sources = source_addresses((1, 0), args.per_address)
        self.stream_path = stream_path
        self.token = token
        self.header = b"GET /healthz HTTP/1.1\r\nHost: hera\r\nX-Slow: " + b"a" * 4000
        self.stats = {"opened": 0, "closed_by_server": 0, "refused_503": 0, "connect_errors": 0,
                      "stream_bytes": 0, "stream_events": 0, "streams_ended": 0}
        self.to_open = []  # idle connections to open (first time, or again after a close)
        self.last_open = time.monotonic()

    def _connect(self, source):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((source, 0))
        s.settimeout(10)
        s.connect((self.args.host, self.args.port))
        s.setblocking(False)
        return s

    def open_idle(self, index):
        try:
            s = self._connect(next(self.idle_sources))
        except OSError:
            self.stats["connect_errors"] += 1
            return False
        trickle = index % 2 == 1  # half trickle, half stay silent
        self.sel.register(s, selectors.EVENT_READ,
                          {"kind": "idle", "index": index, "trickle": trickle, "sent": 0})
        self.stats["opened"] += 1
        return True

    def open_stream(self, index):
        try:
            s = self._connect(next(self.stream_sources))
        except OSError:
            self.stats["connect_errors"] += 1
            return False
        s.setblocking(True)
        s.sendall((f"GET {self.stream_path} HTTP/1.1\r\nHost: hera\r\n"
                   f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n\r\n"
                   ).encode())
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ, {"kind": "stream", "index": index})
        return True

    def _closed(self, key):
        data = key.data
        self.sel.unregister(key.fileobj)
        key.fileobj.close()
        return data

    def step(self, timeout):
        """Reads what arrived; reopens what the server closed."""
        reopen_streams = []
        for key, _ in self.sel.select(timeout):
            try:
                chunk = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            data = key.data
            if data["kind"] == "stream":
                if chunk:
                    self.stats["stream_bytes"] += len(chunk)
                    self.stats["stream_events"] += chunk.count(b"event: log")
                    continue
                self._closed(key)
                self.stats["streams_ended"] += 1
                reopen_streams.append(data["index"])
                continue
            if chunk:
                if b" 503 " in chunk[:20]:
                    self.stats["refused_503"] += 1
                continue  # 408 or 503: the close follows
            self._closed(key)
            self.stats["closed_by_server"] += 1
            self.to_open.append(data["index"])
        for i in reopen_streams:
            self.open_stream(i)
        self.open_due()

    def open_due(self):
        """Opens waiting idle connections, at most --open-rate a second."""
        now = time.monotonic()
        budget = int((now - self.last_open) * self.args.open_rate)
        if budget <= 0:
            return
        self.last_open = now
        for _ in range(min(budget, len(self.to_open))):
            self.open_idle(self.to_open.pop(0))

    def trickle(self):
        """Each trickling connection sends one more header byte."""
        for key in list(self.sel.get_map().values()):
            data = key.data
            if data["kind"] != "idle" or not data["trickle"]:
                continue
            if data["sent"] >= len(self.header):
                continue
            try:
                key.fileobj.send(self.header[data["sent"]:data["sent"] + 1])
                data["sent"] += 1
            except OSError:
                pass

    def counts(self):
        idle = streams = 0
        for key in self.sel.get_map().values():
            if key.data["kind"] == "idle":
                idle += 1
            else:
                streams += 1
        return idle, streams


def measure(host, port, seconds, rate, out, stop=None):
    """GET /healthz on a fresh connection `rate` times a second; appends latencies (s) or None."""
    until = time.monotonic() + seconds
    while time.monotonic() < until and not (stop and stop.is_set()):
        start = time.monotonic()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            conn.close()
            out.append(time.monotonic() - start if resp.status == 200 else None)
        except OSError:
            out.append(None)
        time.sleep(max(0.0, 1.0 / rate - (time.monotonic() - start)))


def proc_status(pid):
    """(RSS in MiB, threads) of process `pid`, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])
    except (OSError, KeyError, ValueError):
        return None


def summary(name, samples):
    ok = sorted(s for s in samples if s is not None)
    failed = len(samples) - len(ok)
    if not ok:
        return f"{name:<22} no successful request ({failed} failed)"
    p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))]
    slow = sum(1 for s in ok if s > 0.1)
    return (f"{name:<16} n={len(samples):<5} failed={failed:<3} "
            f"p50={statistics.median(ok) * 1e3:6.2f} ms  p99={p99 * 1e3:7.2f} ms  "
            f"max={ok[-1] * 1e3:7.2f} ms  over 100 ms: {slow}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--idle", type=int, default=5000, help="silent or trickling connections")
    p.add_argument("--streams", type=int, default=100, help="live log streams (SSE)")
    p.add_argument("--per-address", type=int, default=60,
                   help="connections per loopback source address (under the server's cap)")
    p.add_argument("--open-rate", type=float, default=1000,
                   help="idle connections opened (or reopened after a close) per second")
    p.add_argument("--trickle-interval", type=float, default=1.0,
                   help="seconds between two header bytes of a trickling connection")
    p.add_argument("--baseline", type=float, default=5, help="seconds measured before the attack")
    p.add_argument("--duration", type=float, default=30, help="seconds measured during it")
    p.add_argument("--rate", type=float, default=20, help="/healthz requests per second")
    p.add_argument("--pid", type=int, help="hera's pid: report its memory and threads")
    p.add_argument("--user", default="admin")
    p.add_argument("--password", default=os.environ.get("HERA_ADMIN_PASSWORD", ""))
    args = p.parse_args()

    limit = raise_fd_limit(args.idle + args.streams + 256)
    print(f"open files allowed here: {limit}")

    baseline = []
    measure(args.host, args.port, args.baseline, args.rate, baseline)
    server_before = proc_status(args.pid) if args.pid else None

    token, run_id, stream_path = None, None, None
    if args.streams and not args.password:
        print("no --password / HERA_ADMIN_PASSWORD: no streams", file=sys.stderr)
        args.streams = 0
    if args.streams:
        token = api(args.host, args.port, "POST", "/api/v1/auth/login",
                    {"username": args.user, "password": args.password})["token"]
        group = api(args.host, args.port, "POST", "/api/v1/groups",
                    {"name": f"slowloris-{int(time.time())}"}, token)
        job = api(args.host, args.port, "POST", "/api/v1/jobs",
                  {"name": "ticker", "group_id": group["id"], "type": "shell",
                   "script": "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo tick $i; "
                             "sleep 0.5; done\n"}, token)
        run_id = api(args.host, args.port, "POST", f"/api/v1/jobs/{job['id']}/run",
                     {"trigger": "manual"}, token)["run_id"]
        stream_path = f"/api/v1/runs/{run_id}/log/stream"

    crowd = Crowd(args, stream_path, token)
    t0 = time.monotonic()
    for i in range(args.streams):
        crowd.open_stream(i)
    crowd.to_open = list(range(args.idle))
    while crowd.to_open:
        crowd.step(0.01)
    idle, streams = crowd.counts()
    print(f"opened {idle} idle/trickling connections and {streams} streams "
          f"in {time.monotonic() - t0:.1f} s")

    during, stop = [], threading.Event()
    meter = threading.Thread(target=measure,
                             args=(args.host, args.port, args.duration, args.rate, during, stop))
    meter.start()
    next_trickle, held, server_during = time.monotonic(), [], []
    while meter.is_alive():
        crowd.step(0.05)
        if time.monotonic() >= next_trickle:
            crowd.trickle()
            next_trickle += args.trickle_interval
            held.append(crowd.counts())
            if args.pid:
                server_during.append(proc_status(args.pid))
    meter.join()
    events_during = crowd.stats["stream_events"]

    if run_id:
        try:
            api(args.host, args.port, "POST", f"/api/v1/runs/{run_id}/cancel", {}, token)
        except (RuntimeError, OSError) as e:
            print(f"cancel: {e}", file=sys.stderr)
    for key in list(crowd.sel.get_map().values()):
        key.fileobj.close()

    print(summary("healthz before", baseline))
    print(summary("healthz during", during))
    if held:
        print(f"held during: idle/trickling min {min(h[0] for h in held)} "
              f"max {max(h[0] for h in held)}; streams min {min(h[1] for h in held)} "
              f"max {max(h[1] for h in held)}")
    during_ok = [x for x in server_during if x]
    if server_before and during_ok:
        print(f"hera (pid {args.pid}): before RSS {server_before[0]:.0f} MiB, "
              f"{server_before[1]} threads; during RSS max {max(x[0] for x in during_ok):.0f} MiB, "
              f"threads max {max(x[1] for x in during_ok)}")
    print("stats: " + ", ".join(f"{k}={v}" for k, v in crowd.stats.items()))
    if args.streams:
        print(f"log events received over all streams: {events_during} "
              f"({events_during / max(1, args.streams):.1f} per stream)")


if __name__ == "__main__":
    main()
