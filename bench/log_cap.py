#!/usr/bin/env python3
"""A run that prints 200 MB: how much of it the master stores, and how long the run takes.

    HERA_BIN=build/release/hera python3 bench/log_cap.py [--mb 200] [--cap-mb 64]

Starts `hera standalone` on loopback in a temporary directory, runs one shell job printing
`--mb` MB in lines of 100 bytes, and prints the stored log's length (`ls -l`), its disk space
(`du`) and the first page a reader gets (head, then the notice of the dropped middle)."""

import argparse
import glob
import os
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from hera_process import Hera  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--cap-mb", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hera-log-cap-") as data:
        hera = Hera(data_dir=data, extra_args=["--log-cap-mb", str(args.cap_mb)]).start()
        try:
            group = hera.create_group("bench")
            job = hera.create_job(group["id"], "chatty",
                                  f"head -c {args.mb * 1000000} /dev/zero | tr '\\0' x | fold -w 99")
            started = time.time()
            run = hera.wait_run(hera.run_job(job["id"])["run_id"], timeout=600)
            took = time.time() - started
            path = glob.glob(os.path.join(data, "logs", "*", f"{run['id']}.log"))[0]
            st = os.stat(path)
            print(f"run {run['status']} in {took:.1f} s; stored log: length {st.st_size / 2**20:.1f}"
                  f" MiB, on disk {st.st_blocks * 512 / 2**20:.1f} MiB (cap {args.cap_mb} MiB)")
            req = urllib.request.Request(
                f"{hera.base}/api/v1/runs/{run['id']}/log?offset={args.cap_mb * 2**19}&limit=200",
                headers={"Authorization": "Bearer " + hera.token})
            with urllib.request.urlopen(req) as resp:
                print("a read where the middle was dropped:",
                      resp.read().decode().splitlines()[:2],
                      "next offset", resp.headers["X-Next-Offset"])
        finally:
            hera.stop()


if __name__ == "__main__":
    main()
