"""How long the local cloud's CloudFormation takes to create cloudformation/app.yaml, on the instant profile (and,
with ``--latency aws*0.01``, on a scaled AWS pace).

Times CreateStack until the stack settles, as the pipeline waits (``pipeline.cfn.watch``, polling every 10 ms),
in one process with a started local cloud; the first round pays moto's first use of each service. Prints every
round, the median and the load average, since the machine is shared.

Run: python benchmarks/cloudformation_create.py [--rounds 5] [--latency aws*0.01]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import localcloud  # noqa: E402
from pipeline import cfn  # noqa: E402


def _artifact(s3, bucket: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(ROOT / "lambda" / "handler.py", "handler.py")
    body = buffer.getvalue()
    key = f"artifacts/bench/{hashlib.sha256(body).hexdigest()}.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def _create(cf, name: str, body: str, parameters: list[dict]) -> float:
    started = time.perf_counter()
    cf.create_stack(StackName=name, TemplateBody=body, Parameters=parameters, Capabilities=["CAPABILITY_IAM"])
    status = cfn.watch(cf, name, cfn.EventStream(cf, name), lambda e: None, cfn.Backoff(0.01, 1.0, 0.01))
    elapsed = time.perf_counter() - started
    if status != "CREATE_COMPLETE":
        raise SystemExit(f"{name} ended {status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", default=None)
    args = parser.parse_args()
    os.environ.update(localcloud.DUMMY_CREDENTIALS)
    body = (ROOT / "cloudformation" / "app.yaml").read_text()
    with localcloud.start(latency=args.latency) as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        cf = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="bench-artifacts")
        key = _artifact(s3, "bench-artifacts")
        parameters = [
            {"ParameterKey": "ArtifactBucket", "ParameterValue": "bench-artifacts"},
            {"ParameterKey": "ArtifactKey", "ParameterValue": key},
        ]
        rounds = [_create(cf, f"bench-app-{n}", body, parameters) for n in range(args.rounds)]
    profile = args.latency or "instant"
    for number, seconds in enumerate(rounds, 1):
        print(f"round {number}: app.yaml CREATE_COMPLETE in {seconds * 1000:.0f} ms ({profile})")
    print(f"median {statistics.median(rounds) * 1000:.0f} ms over {len(rounds)} rounds; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
