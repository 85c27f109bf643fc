"""How long a fresh process takes to have a local cloud answering its first request, and to stop it.

Targets (the engine issue): cold start to the first answered request at most 400 ms, stop at most 100 ms, on a
quiet machine. Each round is a new Python process, so moto's import cost is counted every time, as a user's first
command pays it. "first request" is an S3 ListBuckets over HTTP (moto's default service; no SDK is imported, so
the client's own import cost is not counted), timed from the first line of the process. "stop" is leaving the
``with localcloud.start()`` block: the Lambda runtime and the server are down when it returns. "first Lambda
request" is a ListFunctions right after it: a local cloud loads moto's Lambda, Logs and IAM (and their fixes), and
moto's Flask-based dispatcher (S3 is served without it), at its first request for a service other than S3, so this
is what that deferral costs, once. Prints medians and the worst round, wall clock and the process's CPU time, with
the load average, since the machine is shared. Compare checkouts by CPU time on a busy machine; and note that
with PYTHONDONTWRITEBYTECODE set every round compiles the project's own modules again (a user's second command
does not), which the script says when it is set.

Run: python benchmarks/localcloud_startup.py [--rounds 7] [--against DIR ...]
(``--against`` takes other checkouts, e.g. ``git archive <rev> | tar -x -C DIR``; rounds alternate between them.)
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
    scope = "Credential=localcloud/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"
    functions = urllib.request.Request(endpoint + "/2015-03-31/functions/",
                                       headers={"Authorization": "AWS4-HMAC-SHA256 " + scope})
    lambda_started = time.perf_counter()
    urllib.request.urlopen(functions, timeout=30).read()  # Lambda ListFunctions (moto checks no signature)
    lambda_answered = time.perf_counter()
    leaving = time.perf_counter()
stopped = time.perf_counter()
print(json.dumps({"import": imported - started, "ready": ready - started, "first request": answered - started,
                  "first request cpu": answered_cpu, "first Lambda request": lambda_answered - lambda_started,
                  "stop": stopped - leaving}))
"""
FIGURES = ("import", "ready", "first request", "first request cpu", "first Lambda request", "stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--against", nargs="*", default=[], help="other checkouts, measured in alternation")
    args = parser.parse_args()
    checkouts = [ROOT, *(Path(d).resolve() for d in args.against)]
    runs: dict[Path, list[dict]] = {checkout: [] for checkout in checkouts}
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set, so every round compiles the project's modules again")
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for checkout in checkouts:
            done = subprocess.run([sys.executable, "-c", PROBE], cwd=checkout, capture_output=True, text=True,
                                  check=True)  # fmt: skip
            runs[checkout].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"rounds: {args.rounds} (whole processes); load average before/after: {load:.1f}/{os.getloadavg()[0]:.1f}")
    for checkout in checkouts:
        if len(checkouts) > 1:
            print(checkout)
        for figure in FIGURES:
            values = [run[figure] * 1000 for run in runs[checkout] if figure in run]
            if values:
                print(f"  {figure + ':':22s} median {statistics.median(values):6.0f} ms   worst {max(values):6.0f} ms")
    print("targets on a quiet machine: first request <= 400 ms, stop <= 100 ms")


if __name__ == "__main__":
    main()
