"""Deploy speed and honesty, side by side with the awscli, in one run on one local cloud.

For the same template and the same artifact, times three deploys with `invoke deploy`'s Deployer and with
`aws cloudformation deploy`: the first create, a code-change update and an unchanged redeploy. It also counts
what the unchanged redeploy wrote (change sets created, change sets left behind) and checks package
reproducibility against `aws cloudformation package` after the files' mtimes change.

Run: python benchmarks/deploy_vs_awscli.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

import localcloud  # noqa: E402
from pipeline import package, report  # noqa: E402
from pipeline.deploy import Deployer, DeployRequest  # noqa: E402
from pipeline.template import load  # noqa: E402

AWS = str(Path(sys.executable).parent / "aws")


class Quiet(report.TerminalProgress):
    def message(self, text):
        pass

    def changes(self, changes):
        pass

    def event(self, event):
        pass


def _aws(endpoint: str, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        **localcloud.DUMMY_CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    started = time.perf_counter()
    done = subprocess.run([AWS, *args], env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def _peer_deploy(endpoint: str, stack: str, bucket: str, key: str) -> float:
    seconds, done = _aws(
        endpoint, "cloudformation", "deploy", "--template-file", str(ROOT / "cloudformation" / "app.yaml"),
        "--stack-name", stack, "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
        "--no-fail-on-empty-changeset", "--parameter-overrides", f"ArtifactBucket={bucket}", f"ArtifactKey={key}",
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"aws cloudformation deploy failed: {done.stderr}")
    return seconds


def _ours(cfn, stack: str, bucket: str, key: str) -> tuple[float, str]:
    request = DeployRequest(
        stack, load(ROOT / "cloudformation" / "app.yaml"), parameters={"ArtifactBucket": bucket, "ArtifactKey": key}
    )
    started = time.perf_counter()
    result = Deployer(cfn, Quiet()).deploy(request)
    return time.perf_counter() - started, result.outcome


def _artifacts(s3, bucket: str, work: Path) -> tuple[str, str]:
    first = package.build(work)
    package.upload(s3, bucket, first)
    (work / "handler.py").write_text((work / "handler.py").read_text() + "\n# benchmark change\n")
    second = package.build(work)
    package.upload(s3, bucket, second)
    return first.key, second.key


def _reproducibility(work: Path, endpoint: str, bucket: str) -> tuple[bool, bool]:
    """Same code, new mtimes: does each packager produce the same key?"""
    ours_before = package.build(work).key
    keys = []
    for mtime in (1_700_000_000, 1_800_000_000):
        for path in work.rglob("*"):
            os.utime(path, (mtime, mtime))
        template = work.parent / "tiny.yaml"
        template.write_text(
            "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            f"      Code: {work}\n      Handler: handler.handler\n      Runtime: python3.13\n"
            "      Role: arn:aws:iam::1:role/r\n"
        )
        _, done = _aws(endpoint, "cloudformation", "package", "--template-file", str(template), "--s3-bucket", bucket)
        keys.append(next(line.split()[-1] for line in done.stdout.splitlines() if "S3Key" in line))
    return package.build(work).key == ours_before, keys[0] == keys[1]


def main() -> None:
    with localcloud.start() as endpoint, tempfile.TemporaryDirectory() as tmp:
        session = boto3.Session(
            region_name="us-east-1", **{k.lower(): v for k, v in localcloud.DUMMY_CREDENTIALS.items()}
        )
        s3, cfn = session.client("s3", endpoint_url=endpoint), session.client("cloudformation", endpoint_url=endpoint)
        bucket = "bench-artifacts"
        s3.create_bucket(Bucket=bucket)
        work = Path(tmp) / "lambda"
        shutil.copytree(ROOT / "lambda", work, ignore=shutil.ignore_patterns("__pycache__"))
        key1, key2 = _artifacts(s3, bucket, work)

        rows = []
        for label, key in (("create", key1), ("code change", key2), ("unchanged redeploy", key2)):
            ours, outcome = _ours(cfn, "bench-ours", bucket, key)
            peer = _peer_deploy(endpoint, "bench-peer", bucket, key)
            rows.append((label, f"{ours:.2f}s", f"{peer:.2f}s", f"{peer / ours:.0f}x", outcome))
        print(report.table(("deploy", "invoke deploy", "aws cloudformation deploy", "ratio", "ours did"), rows))

        # Executed change sets are gone on AWS; what can pile up are FAILED empty ones (aws-cli #4534).
        summaries = (
            cfn.list_change_sets(StackName="bench-peer")["Summaries"]
            + cfn.list_change_sets(StackName="bench-ours")["Summaries"]
        )
        failed = {name: 0 for name in ("bench-ours", "bench-peer")}
        for summary in {s["ChangeSetId"]: s for s in summaries}.values():
            if summary["Status"] == "FAILED" and summary["StackName"] in failed:
                failed[summary["StackName"]] += 1
        print(f"\nempty FAILED change sets left behind: ours {failed['bench-ours']}, awscli {failed['bench-peer']}")

        ours_same, peer_same = _reproducibility(work, endpoint, bucket)
        print(f"same key after the files' mtimes change: ours {ours_same}, aws cloudformation package {peer_same}")


if __name__ == "__main__":
    main()
