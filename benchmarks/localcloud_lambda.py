"""Benchmark the local Lambda runtime: cold start, warm-invoke overhead (TCP_NODELAY on vs off), and an S3 burst.

Run:  python benchmarks/localcloud_lambda.py [--uploads 1000] [--burst-only] [--against DIR --repeat N]

``--against DIR`` bursts a second checkout too (``git archive main | tar -x -C DIR``), alternating with this one for
``--repeat`` rounds, and prints each run (with the load average) and the medians side by side. On a busy machine
the server's CPU per upload is the figure to compare: uploads/s follows whatever else the cores are doing.

The burst runs against a local cloud in its own process (as `invoke localcloud` runs it), uploads from a second
process (8 threads), and reads the handler's lines from this one, so that each figure belongs to one process:
the server's peak RSS (VmHWM, its Lambda workers apart), its CPU per upload, uploads/s from the first upload to
the last handler line, and the uploading process's own CPU per upload. Prints figures; asserts nothing (targets:
cold <= 150 ms, warm overhead <= 1 ms, a 1,000-upload burst at >= 250 uploads/s end to end with the server's peak
RSS <= 150 MiB, and exactly one handler line per upload: 0 lost, 0 duplicated).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import localcloud
from localcloud import runtime

REGION = "us-east-1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANDLER = """
def handler(event, context):
    for record in event.get("Records", []):
        print("PROCESSED " + record["s3"]["object"]["key"])
    return "ok"
"""


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def make_clients(endpoint: str) -> dict[str, object]:
    options = {"endpoint_url": endpoint, "region_name": REGION, **_credentials()}
    return {name: boto3.client(name, **options) for name in ("iam", "lambda", "s3", "logs")}


def _credentials() -> dict[str, str]:
    return {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}


def create_function(clients: dict, name: str) -> dict:
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = clients["iam"].create_role(RoleName=f"bench-{name}", AssumeRolePolicyDocument=json.dumps(trust))
    return clients["lambda"].create_function(
        FunctionName=name,
        Runtime=f"python{sys.version_info.major}.{sys.version_info.minor}",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code_zip()},
    )


def moto_function(name: str) -> object:
    from moto.awslambda.utils import get_backend

    return get_backend("123456789012", REGION).get_function(name)


def cold_start(clients: dict, name: str) -> tuple[float, float]:
    """Wall time of the first Invoke through the API, and the Init Duration the REPORT line gives."""
    started = time.perf_counter()
    clients["lambda"].invoke(FunctionName=name, Payload=b"{}")
    wall_ms = (time.perf_counter() - started) * 1000
    events = clients["logs"].filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    report = next(e["message"] for e in events if e["message"].startswith("REPORT"))
    init_ms = float(report.split("Init Duration: ")[1].split(" ms")[0])
    return wall_ms, init_ms


def warm_overhead(endpoint: str, name: str, nodelay: bool, rounds: int) -> list[float]:
    """Per-invoke milliseconds through a runtime (no API layer), for a handler that does nothing measurable."""
    lambda_runtime = runtime.LambdaRuntime(endpoint, REGION, nodelay=nodelay)
    lambda_runtime.start()
    try:
        fn = moto_function(name)
        lambda_runtime.invoke(fn, b"{}")  # the cold start is not part of the warm figure
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            lambda_runtime.invoke(fn, b"{}")
            timings.append((time.perf_counter() - started) * 1000)
        return timings
    finally:
        lambda_runtime.stop()


SERVER = """
import sys, localcloud
with localcloud.start() as endpoint:
    print(endpoint, flush=True)
    sys.stdin.read()  # until the benchmark closes it
"""


def memory_mib(pid: int, field: str = "VmHWM") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry))
    return found


def server_burst(uploads: int, checkout: str = ROOT) -> dict[str, float]:
    """The burst against a local cloud in its own process (run from ``checkout``), with its figures."""
    env = {**os.environ, "PYTHONPATH": checkout}
    command = [sys.executable, "-c", SERVER]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=checkout, env=env)
    try:
        endpoint = server.stdout.readline().strip()
        clients = make_clients(endpoint)
        burst = create_function(clients, "bench-burst")
        rss_before = memory_mib(server.pid, "VmRSS")
        cpu_before = cpu_seconds(server.pid)
        figures = upload_burst(clients, endpoint, burst["FunctionArn"], burst["FunctionName"], uploads)
        cpu = cpu_seconds(server.pid) - cpu_before  # its log reads included; the 1 s look for late duplicates idles
        workers = [memory_mib(pid) for pid in worker_pids(server.pid)]
        figures.update(
            rss_before=rss_before,
            server_ms=cpu / uploads * 1000,
            peak_rss=memory_mib(server.pid),
            workers=len(workers),
            worker_rss=max(workers, default=0),
        )
        return figures
    finally:
        server.stdin.close()
        server.wait(timeout=60)


def print_burst(uploads: int, f: dict[str, float]) -> None:
    print(f"server before the burst: RSS {f['rss_before']:.0f} MiB")
    print(f"{uploads} uploads accepted by S3 in {f['accept_s']:.2f} s ({uploads / f['accept_s']:.0f}/s)")
    print(f"server CPU during the burst: {f['server_ms'] * uploads / 1000:.2f} s ({f['server_ms']:.2f} ms per upload)")
    print(f"uploading process CPU: {f['client_ms']:.2f} ms per upload (boto3, 8 threads)")
    print(
        f"{uploads} uploads -> {f['lines']:.0f} handler lines ({f['distinct']:.0f} distinct keys): "
        f"{f['lost']:.0f} lost, {f['duplicated']:.0f} duplicated"
    )
    print(f"end to end: {f['per_s']:.0f} uploads/s ({uploads / f['per_s']:.2f} s from first upload to last line)")
    print(
        f"server peak RSS: {f['peak_rss']:.0f} MiB (VmHWM); "
        f"{f['workers']:.0f} Lambda workers, peak RSS {f['worker_rss']:.0f} MiB each at most"
    )


def upload_burst(clients: dict, endpoint: str, function_arn: str, name: str, uploads: int) -> dict[str, float]:
    """Upload ``uploads`` objects and wait for every handler line; the burst's figures.

    The uploads come from a separate process, as they do in real use (the aws CLI, a script): a boto3 client
    inside the server's own process would compete with it for the GIL and measure that instead.
    """
    bucket = f"bench-{uuid.uuid4().hex[:12]}"
    clients["s3"].create_bucket(Bucket=bucket)
    clients["lambda"].add_permission(  # S3 refuses a destination that does not let it invoke the function
        FunctionName=function_arn,
        StatementId=f"s3-{bucket}",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    config = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}]}
    clients["s3"].put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    command = [sys.executable, __file__, "--upload-to", endpoint, bucket, str(uploads)]
    uploader = subprocess.run(command, check=True, capture_output=True, text=True)
    # The uploader's wall clock at its first and last upload (not at its start-up), and its CPU for the uploads.
    started, uploaded, client_cpu = (float(stamp) for stamp in uploader.stdout.split())
    lines = wait_for_lines(clients, name, uploads, deadline=time.time() + 120)
    elapsed = time.time() - started
    time.sleep(1.0)  # then look again: a duplicate delivered late would show up here
    lines = wait_for_lines(clients, name, uploads, deadline=time.time())
    distinct = len(set(lines))
    return {
        "accept_s": uploaded - started,
        "client_ms": client_cpu / uploads * 1000,
        "lines": len(lines),
        "distinct": distinct,
        "lost": uploads - distinct,
        "duplicated": len(lines) - distinct,
        "per_s": uploads / elapsed,
    }


def upload(endpoint: str, bucket: str, uploads: int) -> None:
    """The uploading process: ``uploads`` small objects from 8 threads."""
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **_credentials())
    keys = [f"burst/{number:05d}.txt" for number in range(uploads)]
    print(time.time(), flush=True)
    cpu = time.process_time()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"x"), keys))
    print(time.time(), time.process_time() - cpu, flush=True)


def wait_for_lines(clients: dict, name: str, wanted: int, deadline: float) -> list[str]:
    seen: dict[str, str] = {}  # eventId -> message: each poll asks only for events since the newest one seen
    since = 0
    while True:
        since = poll_lines(clients, name, since, seen)
        lines = [message for message in seen.values() if message.startswith("PROCESSED ")]
        if len(lines) >= wanted or time.time() >= deadline:
            return lines
        time.sleep(0.1)


def poll_lines(clients: dict, name: str, since: int, seen: dict[str, str]) -> int:
    """Add the events at or after ``since`` (ms) to ``seen``; return the newest timestamp."""
    paginator = clients["logs"].get_paginator("filter_log_events")
    for page in paginator.paginate(logGroupName=f"/aws/lambda/{name}", startTime=since):
        for event in page["events"]:
            seen[event["eventId"]] = event["message"]
            since = max(since, event["timestamp"])
    return since


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--burst-only", action="store_true", help="only the S3 burst against a separate server")
    parser.add_argument("--rounds", type=int, default=200, help="warm invokes per TCP_NODELAY setting")
    parser.add_argument("--against", metavar="DIR", help="also burst a checkout at DIR, alternating with this one")
    parser.add_argument("--repeat", type=int, default=1, help="bursts per checkout (medians are printed)")
    parser.add_argument("--upload-to", nargs=3, metavar=("ENDPOINT", "BUCKET", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upload_to:
        endpoint, bucket, uploads = args.upload_to
        return upload(endpoint, bucket, int(uploads))
    if not args.burst_only:
        invoke_figures(args.rounds)
    if args.against is None and args.repeat == 1:
        return print_burst(args.uploads, server_burst(args.uploads))
    compare_bursts(
        args.uploads,
        args.repeat,
        {"this checkout": ROOT, args.against: args.against} if args.against else {"this checkout": ROOT},
    )


AB_FIGURES = (  # (key, label, format)
    ("per_s", "uploads/s end to end", "{:.0f}"),
    ("server_ms", "server CPU ms/upload", "{:.2f}"),
    ("client_ms", "uploader CPU ms/upload", "{:.2f}"),
    ("peak_rss", "server peak RSS MiB", "{:.0f}"),
    ("lost", "lost (worst run)", "{:.0f}"),
    ("duplicated", "duplicated (worst run)", "{:.0f}"),
)


def compare_bursts(uploads: int, repeat: int, checkouts: dict[str, str]) -> None:
    """``repeat`` bursts per checkout, alternating (the order flips every round), then the medians side by side."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for round_number in range(repeat):
        names = list(checkouts) if round_number % 2 == 0 else list(reversed(checkouts))
        for name in names:
            figures = server_burst(uploads, os.path.abspath(checkouts[name]))
            load = os.getloadavg()[0]
            runs[name].append(figures)
            print(
                f"round {round_number + 1} {name}: {figures['per_s']:.0f} uploads/s, server CPU "
                f"{figures['server_ms']:.2f} ms/upload, lost {figures['lost']:.0f}, duplicated "
                f"{figures['duplicated']:.0f} (load average {load:.2f})",
                flush=True,
            )
    print(f"\nmedians of {repeat} bursts of {uploads} uploads each:")
    print(f"{'':26}" + "".join(f"{name[-24:]:>26}" for name in checkouts))
    for key, label, form in AB_FIGURES:
        pick = max if key in ("lost", "duplicated") else statistics.median
        cells = [form.format(pick(run[key] for run in runs[name])) for name in checkouts]
        print(f"{label:26}" + "".join(f"{cell:>26}" for cell in cells))


def invoke_figures(rounds: int) -> None:
    """Cold start and warm overhead, through a local cloud in this process (the warm figure needs its runtime)."""
    with localcloud.start() as endpoint:
        clients = make_clients(endpoint)
        cold_start(clients, create_function(clients, "bench-first")["FunctionName"])  # warms moto's API layer
        wall_ms, init_ms = cold_start(clients, create_function(clients, "bench-cold")["FunctionName"])
        print(f"cold start: Init Duration {init_ms:.1f} ms; cold Invoke through the API {wall_ms:.1f} ms")

        warm = create_function(clients, "bench-warm")
        for nodelay in (True, False):
            timings = warm_overhead(endpoint, warm["FunctionName"], nodelay, rounds)
            print(
                f"warm invoke, TCP_NODELAY {'on ' if nodelay else 'off'}: median {statistics.median(timings):.2f} ms,"
                f" p95 {percentile(timings, 0.95):.2f} ms over {len(timings)} invokes (runtime only, no API layer)"
            )


if __name__ == "__main__":
    main()
