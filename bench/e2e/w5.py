#!/usr/bin/env python3
"""W5 of /work/shared/BENCH.md against the real `hera standalone`: 100,000 job definitions
(hourly and daily roots, each followed by a dependent chain, 10 jobs deep), one day of actions.

usage: bench/e2e/w5.py [--jobs N] [--threads T] [--hera PATH] [--tmp-root DIR] [--keep]

Measures, through the HTTP API:
  - saving the jobs (each save plans its actions for today and tomorrow at once): jobs/s;
  - the master's peak memory after that, per job and per planned action;
  - API latency (median and p90 of 20 calls): the first page of the job list, a name search,
    the groups, and the downstream graph of a job with 999 dependents (a 1,000-node DAG);
  - a restart (SIGTERM, then a new process on the same data dir): seconds from the process start
    until the API answers, and memory after it.
Hourly roots fire at a minute 30 minutes ahead and daily ones at an hour already past, so no run
starts while it measures. Python 3 standard library only; about 5 minutes for 100,000 jobs.
"""
import argparse
import concurrent.futures as cf
import datetime as dt
import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import REPO, Hera, log  # noqa: E402 (the e2e runner's server and client)

CHAIN = 10


def chains(n_jobs):
    """(root schedule, chain length) for each chain, 40 % hourly, 40 % daily, 20 % chains."""
    now = dt.datetime.now(dt.timezone.utc)
    hourly = {"cron": f"0 {(now.minute + 30) % 60} * * * ?", "timezone": "UTC"}
    daily = {"cron": f"0 0 {(now.hour + 23) % 24} * * ?", "timezone": "UTC"}
    out = []
    for i in range(n_jobs // CHAIN):
        out.append((hourly if i % 2 == 0 else daily, CHAIN))
    return out


def create_chain(api, group, index, schedule, length):
    """A root with `schedule`, then `length - 1` jobs each depending on the one before."""
    prev = None
    for k in range(length):
        body = {"name": f"c{index:06d}_{k}", "group_id": group, "script": "true", "enabled": True,
                "schedule": schedule if prev is None else {"depends_on": [{"job_id": prev}]}}
        prev = api.call("POST", "/jobs", body)["id"]
    return length


def latency(api, method, path, n=20):
    ms = []
    for _ in range(n):
        t0 = time.perf_counter()
        api.call(method, path)
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    return statistics.median(ms), ms[int(len(ms) * 0.9) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--hera", default=os.path.join(REPO, "build", "release", "hera"))
    ap.add_argument("--tmp-root", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    h = Hera(args.hera, 2, True, args.tmp_root)
    try:
        h.start()
        api = h.api
        group = api.call("POST", "/groups", {"name": "w5"})["id"]
        plan = chains(args.jobs)
        t0 = time.time()
        done = 0
        with cf.ThreadPoolExecutor(args.threads) as ex:
            futures = [ex.submit(create_chain, api, group, i, s, n) for i, (s, n) in enumerate(plan)]
            for f in cf.as_completed(futures):
                done += f.result()
                if done % 10_000 == 0:
                    log(f"  {done:,} jobs saved ({done / (time.time() - t0):,.0f}/s)")
        save_s = time.time() - t0
        jobs = done
        # A 1,000-node DAG: one root and 999 jobs that depend on it.
        root = api.call("POST", "/jobs", {"name": "dag_root", "group_id": group, "script": "true",
                                          "enabled": True, "schedule": plan[1][0]})["id"]
        with cf.ThreadPoolExecutor(args.threads) as ex:
            list(ex.map(lambda k: api.call("POST", "/jobs", {
                "name": f"dag_{k}", "group_id": group, "script": "true", "enabled": True,
                "schedule": {"depends_on": [{"job_id": root}]}}), range(999)))
        jobs += 1000
        actions_per_job = {}
        for name, root_name in (("hourly chain", "c000000_0"), ("daily chain", "c000001_0")):
            job_id = api.call("GET", f"/jobs?q={root_name}")["items"][0]["id"]
            actions_per_job[name] = api.call("GET", f"/jobs/{job_id}/actions")["total"]
        # Today and tomorrow: 48 actions per hourly-chain job, 2 per daily one.
        planned = (jobs - 1000) // 2 * (actions_per_job["hourly chain"] +
                                        actions_per_job["daily chain"]) + 1000 * 2
        rss = h.rss_mb()
        lat = {
            "GET /jobs?limit=50": latency(api, "GET", "/jobs?limit=50"),
            "GET /jobs?q=c000123": latency(api, "GET", "/jobs?q=c000123&limit=50"),
            "GET /groups": latency(api, "GET", "/groups"),
            "GET /jobs/{root}/graph (1,000 nodes)":
                latency(api, "GET", f"/jobs/{root}/graph?direction=down&depth=1"),
        }
        nodes = len(api.call("GET", f"/jobs/{root}/graph?direction=down&depth=1")["nodes"])
        h.stop()
        if os.path.exists(os.path.join(h.dir, "ports.json")):
            os.remove(os.path.join(h.dir, "ports.json"))  # the new process writes its own
        t1 = time.time()
        h.start()
        restart_s = time.time() - t1
        rss_restart = h.rss_mb()
        after = api_total = h.api.call("GET", "/jobs?limit=1")["total"]
        print(f"\n## W5: {jobs:,} jobs, {planned:,} actions planned (today and tomorrow)\n")
        print("| measure | figure |")
        print("|---|---|")
        print(f"| saving {done:,} jobs through the API ({args.threads} clients) | {save_s:.0f} s "
              f"= {done / save_s:,.0f} jobs/s |")
        print(f"| actions per job (hourly / daily chain) | {actions_per_job['hourly chain']} / "
              f"{actions_per_job['daily chain']} |")
        print(f"| master peak RSS after saving | {rss:,.0f} MB = {rss * 2**20 / planned:,.0f} B "
              f"per planned action |")
        for name, (med, p90) in lat.items():
            print(f"| {name} | median {med:.1f} ms, p90 {p90:.1f} ms |")
        print(f"| graph nodes returned | {nodes:,} |")
        print(f"| restart: process start until the API answers | {restart_s:.1f} s |")
        print(f"| master peak RSS after the restart | {rss_restart:,.0f} MB |")
        print(f"| jobs after the restart | {after:,} |")
        assert api_total == jobs, (api_total, jobs)
    finally:
        h.stop()
        if args.keep:
            log(f"data dir kept: {h.dir}")
        else:
            shutil.rmtree(h.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
