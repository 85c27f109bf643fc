"""`invoke deploy` beside `aws cloudformation deploy`: whole processes, alternating, on one local cloud.

Each round deploys a fresh stack with each tool three times: the first create, a code change, and no change.
Both run as the user runs them (a new process each time, from the venv), in alternating order (ours first in
one pair, the awscli first in the next), with the same template, parameters and artifact; the artifact is
uploaded before each timed step, so `invoke deploy`'s own packaging finds it there (it still builds the zip and
checks). Prints the median seconds of each step for both, the ratio (awscli / ours; above 1 means ours is
faster), the mutating API calls each makes for a deploy with no change (through a counting proxy), the empty
FAILED change sets each leaves behind, and whether each packager gives the same key after the files' mtimes
change.

Run: python benchmarks/deploy_vs_awscli.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import tempfile
from pathlib import Path

from deploy_tools import BIN, CallCounter, Target, aws_deploy, invoke_deploy, run, serve, tool_env, workspace

STEPS = ("create", "code change", "no change")


def _pair(target: Target, env: dict[str, str], peer_stack: str, ours_first: bool) -> dict[str, float]:
    parameters = target.upload_artifact()
    sides = [
        ("ours", lambda: invoke_deploy(target, env)),
        ("awscli", lambda: aws_deploy(target, env, peer_stack, parameters)),
    ]
    return {name: timed() for name, timed in (sides if ours_first else sides[::-1])}


def _rounds(target: Target, env: dict[str, str], rounds: int) -> dict[str, dict[str, list[float]]]:
    times = {step: {"ours": [], "awscli": []} for step in STEPS}
    for index in range(rounds):
        target.environment = f"bench{index}"
        for number, step in enumerate(STEPS):
            if step == "code change":
                target.change_code(f"{index}")
            pair = _pair(target, env, f"bench-awscli-{index}", ours_first=(index + number) % 2 == 0)
            for side, seconds in pair.items():
                times[step][side].append(seconds)
        print(
            f"round {index + 1}: "
            + ", ".join(f"{s} {times[s]['ours'][-1]:.2f}/{times[s]['awscli'][-1]:.2f} s" for s in STEPS)
        )
    return times


def _noop_calls(target: Target, endpoint: str) -> dict[str, collections.Counter]:
    """One more deploy of each with nothing changed, through the counting proxy: what did each write?"""
    found = {}
    with CallCounter(endpoint) as counter:
        env = tool_env(counter.url)
        parameters = target.upload_artifact()
        for side, deploy in (
            ("invoke deploy", lambda: invoke_deploy(target, env)),
            (
                "aws cloudformation deploy",
                lambda: aws_deploy(target, env, f"bench-awscli-{target.environment[5:]}", parameters),
            ),
        ):
            counter.reset()
            deploy()
            found[side] = collections.Counter(counter.mutating())
    return found


def _left_behind(target: Target, rounds: int) -> dict[str, int]:
    """Executed change sets are gone on AWS; what can pile up are FAILED empty ones (aws-cli #4534)."""
    from pipeline import aws

    cfn = aws.connect(target.settings()).client("cloudformation")
    counts = {"ours": 0, "awscli": 0}
    for index in range(rounds):
        target.environment = f"bench{index}"
        for side, stack in (("ours", target.settings().stack_name), ("awscli", f"bench-awscli-{index}")):
            summaries = cfn.list_change_sets(StackName=stack)["Summaries"]
            counts[side] += sum(s["Status"] == "FAILED" for s in summaries)
    return counts


def _reproducible(target: Target, env: dict[str, str]) -> tuple[bool, bool]:
    """Same code, new mtimes: does each packager produce the same key?"""
    from pipeline import package

    work = target.work / "lambda"
    ours, theirs = [], []
    template = target.work / "tiny.yaml"
    template.write_text(
        "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        f"      Code: {work}\n      Handler: handler.handler\n      Runtime: python3.13\n"
        "      Role: arn:aws:iam::1:role/r\n"
    )
    bucket = target.upload_artifact()["ArtifactBucket"]
    for mtime in (1_700_000_000, 1_800_000_000):
        for path in work.rglob("*"):
            os.utime(path, (mtime, mtime))
        ours.append(package.build(work).key)
        _, out = run(
            [str(BIN / "aws"), "cloudformation", "package", "--template-file", str(template), "--s3-bucket", bucket],
            target.work,
            env,
        )
        theirs.append(next(line.split()[-1] for line in out.splitlines() if "S3Key" in line))
    return ours[0] == ours[1], theirs[0] == theirs[1]


def _print(times: dict[str, dict[str, list[float]]], rounds: int) -> None:
    print(f"\nmedians of {rounds} rounds, whole processes, alternating pairs:")
    print(f"{'step':14}{'invoke deploy':>15}{'aws cfn deploy':>16}{'ratio':>8}")
    for step, sides in times.items():
        ours, peer = statistics.median(sides["ours"]), statistics.median(sides["awscli"])
        print(f"{step:14}{ours:14.2f}s{peer:15.2f}s{peer / ours:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        work = workspace(Path(folder), [f"bench{i}" for i in range(rounds)])
        with serve(work) as endpoint:
            _compare(Target(work, endpoint, "bench0"), endpoint, rounds)


def _compare(target: Target, endpoint: str, rounds: int) -> None:
    env = tool_env(endpoint)
    times = _rounds(target, env, rounds)
    _print(times, rounds)
    print("\nmutating API calls of a deploy with no change:")
    for side, calls in _noop_calls(target, endpoint).items():
        listed = ", ".join(f"{name} x{n}" for name, n in sorted(calls.items())) or "none"
        print(f"  {side:26} {sum(calls.values())}: {listed}")
    left = _left_behind(target, rounds)
    print(f"\nempty FAILED change sets left behind: ours {left['ours']}, awscli {left['awscli']}")
    ours_same, peer_same = _reproducible(target, env)
    print(f"same key after the files' mtimes change: ours {ours_same}, aws cloudformation package {peer_same}")


if __name__ == "__main__":
    sys.exit(main())
