"""What one Lambda cold start costs: the worker's CPU (its start, the runtime's imports, init, one invoke) and
the first invoke's latency, against a warm invoke.

Each round is a new Python process that starts a local cloud, creates ``--functions`` functions (a stdlib-only
handler, as the product's), invokes each once cold and once warm, and stops. "worker CPU" is the CPU time of
every process the local cloud started (workers, and the zygote that forks them when there is one), divided by
the number of cold starts: the cost a test suite or a burst of new functions pays per execution environment.
Prints medians over rounds, with the load average, since the machine is shared.

Run: python benchmarks/lambda_worker_start.py [--rounds 5] [--functions 10] [--against DIR ...]
(``--against`` takes other checkouts, e.g. ``git archive main | tar -x -C DIR``; rounds alternate between them.)
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
import io, json, os, resource, statistics, sys, time, zipfile
import boto3, localcloud

def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

def invoke_ms(lam, name):
    started = time.perf_counter()
    lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()
    return (time.perf_counter() - started) * 1000

buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as archive:
    archive.writestr("app.py", "import json, logging\\n\\ndef handler(event, context):\\n    return {'ok': True}\\n")
os.environ.update(localcloud.DUMMY_CREDENTIALS)
count = int(sys.argv[1])
before = children_cpu()
with localcloud.start() as endpoint:
    client = lambda service: boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")
    iam, lam = client("iam"), client("lambda")
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    names = [f"bench-{n}" for n in range(count)]
    for name in names:
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                            Code={"ZipFile": buffer.getvalue()})
    cold = [invoke_ms(lam, name) for name in names]
    warm = [invoke_ms(lam, name) for name in names]
print(json.dumps({"worker CPU": (children_cpu() - before) * 1000 / count, "first invoke": statistics.median(cold),
                  "warm invoke": statistics.median(warm)}))
"""
FIGURES = ("worker CPU", "first invoke", "warm invoke")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--functions", type=int, default=10)
    parser.add_argument("--against", nargs="*", default=[], help="other checkouts, measured in alternation")
    args = parser.parse_args()
    checkouts = [ROOT, *(Path(d).resolve() for d in args.against)]
    runs: dict[Path, list[dict]] = {checkout: [] for checkout in checkouts}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for checkout in checkouts:
            env = {**os.environ, "PYTHONPATH": str(checkout)}
            done = subprocess.run([sys.executable, "-c", PROBE, str(args.functions)], cwd=checkout, env=env,
                                  capture_output=True, text=True, check=True)  # fmt: skip
            runs[checkout].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"rounds: {args.rounds} (whole processes), {args.functions} cold starts each; "
          f"load average before/after: {load:.1f}/{os.getloadavg()[0]:.1f}")  # fmt: skip
    for checkout in checkouts:
        if len(checkouts) > 1:
            print(checkout)
        for figure in FIGURES:
            values = [run[figure] for run in runs[checkout]]
            print(f"  {figure + ':':14s} median {statistics.median(values):6.1f} ms   worst {max(values):6.1f} ms")


if __name__ == "__main__":
    main()
