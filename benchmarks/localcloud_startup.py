"""How long a fresh process takes to have a local cloud answering its first request, and to stop it.

Targets (the engine issue): cold start to the first answered request at most 400 ms, stop at most 100 ms, on a
quiet machine. Each round is a new Python process, so moto's import cost is counted every time, as a user's first
command pays it. "first request" is an S3 ListBuckets over HTTP (moto's default service; no SDK is imported, so
the client's own import cost is not counted), timed from the first line of the process. "stop" is leaving the
``with localcloud.start()`` block: the Lambda runtime and the server are down when it returns. Prints medians
and the worst round, wall clock and the process's CPU time, with the load average, since the machine is shared.

Run: python benchmarks/localcloud_startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import time
started = time.perf_counter()
import json, resource, urllib.request
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
import localcloud
imported = time.perf_counter()
with localcloud.start() as endpoint:
    ready = time.perf_counter()
    urllib.request.urlopen(endpoint + "/", timeout=30).read()  # S3 ListBuckets
    answered = time.perf_counter()
    answered_cpu = cpu()
    leaving = time.perf_counter()
stopped = time.perf_counter()
print(json.dumps({"import": imported - started, "ready": ready - started, "first request": answered - started,
                  "first request cpu": answered_cpu, "stop": stopped - leaving}))
"""
FIGURES = ("import", "ready", "first request", "first request cpu", "stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    runs = []
    for _ in range(rounds):
        done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"rounds: {rounds} (whole processes); load average before/after: {os.getloadavg()[0]:.1f}")
    for figure in FIGURES:
        values = [run[figure] * 1000 for run in runs]
        print(f"{figure + ':':20s} median {statistics.median(values):6.0f} ms   worst {max(values):6.0f} ms")
    print("targets on a quiet machine: first request <= 400 ms, stop <= 100 ms")


if __name__ == "__main__":
    main()
