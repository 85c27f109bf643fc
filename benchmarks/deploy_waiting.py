"""How long each deploy tool waits after CloudFormation has finished, on AWS-paced CloudFormation.

On AWS a deploy is mostly waiting: a change set takes seconds to create, a stack minutes to change, and each tool
learns that it is done only at its next poll. The local cloud finishes at once, so AWS's pace is put back in
one of two ways (--pace):

  engine  (the default) the engine's AWS-paced latency profile (``localcloud.cloudformation.latency``: each
          resource type its typical AWS time, --scale times it); change sets are paced by the proxy below, and
          CloudFormation "finished" at the stack's own final event. ExecuteChangeSet answers at once, as on AWS.
  stub    a proxy in front of the local cloud (``Paced``) makes each change set and each stack operation take
          its AWS time (``PROFILE`` times --scale): until then DescribeChangeSet says CREATE_IN_PROGRESS,
          DescribeStacks *_IN_PROGRESS, and DescribeStackEvents shows the operation's events spread over the
          time. CloudFormation "finished" when that time is up.

For the same three stack changes (create, code change, no change), each tool runs as a whole process:
`invoke deploy`, `aws cloudformation deploy`, `sam deploy` (aws-sam-cli, installed into its own venv under
``~/.cache/s3-lambda-gitops-bench``; skipped with a message when it cannot install), and a fixed poller that
asks every 2 s (rain's interval). Printed per tool, as medians over the rounds: how long after CloudFormation
finished the tool noticed (its exit), the deploy's wall time, deploy plus `invoke verify`, and the AWS API calls
the deploy made (all of them: what quicker polling costs); and ratios to ours.

Run: python benchmarks/deploy_waiting.py [--rounds 3] [--scale 0.1] [--pace engine|stub] [--no-sam]
(--scale multiplies the profile: 1.0 is AWS's typical pace for this stack; tools' poll intervals never scale.)
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from deploy_tools import BIN, CallCounter, Hung, Target, aws_deploy, invoke_deploy, run, serve, tool_env, workspace

# Seconds at scale 1.0, typical of AWS for this stack (IAM role, function, bucket, queue, log group).
PROFILE = {"change set": 4.0, "create": 60.0, "update": 20.0}
SAM_VERSION = "1.170.0"
LIMIT = 300  # seconds one tool's deploy may take before it counts as hung (and is killed)
SAM_HOME = Path.home() / ".cache" / "s3-lambda-gitops-bench" / f"aws-sam-cli-{SAM_VERSION}"
STEPS = ("create", "code change", "no change")
POLLER = r"""
import sys, time, boto3
stack, template, interval, params = sys.argv[1], open(sys.argv[2]).read(), float(sys.argv[3]), sys.argv[4:]
cfn = boto3.client("cloudformation")
try:
    cfn.describe_stacks(StackName=stack); kind = "UPDATE"
except cfn.exceptions.ClientError:
    kind = "CREATE"
name = f"poller-{int(time.time() * 1000)}"
cfn.create_change_set(StackName=stack, ChangeSetName=name, ChangeSetType=kind, TemplateBody=template,
    Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    Parameters=[dict(zip(("ParameterKey", "ParameterValue"), p.split("=", 1))) for p in params])
while True:
    change_set = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
    if change_set["Status"] in ("CREATE_COMPLETE", "FAILED"):
        break
    time.sleep(interval)
if change_set["Status"] == "FAILED":
    cfn.delete_change_set(StackName=stack, ChangeSetName=name)
    sys.exit(0 if "didn't contain changes" in change_set.get("StatusReason", "") else 1)
cfn.execute_change_set(StackName=stack, ChangeSetName=name)
while True:
    time.sleep(interval)
    status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    if not status.endswith("_IN_PROGRESS"):
        sys.exit(0 if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") else 1)
"""


class Paced(CallCounter):
    """Makes CloudFormation look as slow as AWS: each change set and stack operation 'runs' for its profile time.

    Until then DescribeChangeSet says CREATE_IN_PROGRESS, DescribeStacks says *_IN_PROGRESS, and
    DescribeStackEvents shows the operation's events spread evenly over the time, the final one last.
    ``finished[stack]`` is when CloudFormation 'finished' the stack's last operation.
    """

    def __init__(self, upstream: str, scale: float, hold_stacks: bool):
        super().__init__(upstream)
        self.scale, self.hold_stacks = scale, hold_stacks
        self.change_sets: dict[str, tuple[float, str, str]] = {}  # name -> (created at, stack, create/update)
        self.operations: dict[str, tuple[float, float]] = {}  # stack -> (started at, seconds it takes)
        self.finished: dict[str, float] = {}
        self._lock2 = threading.Lock()

    def before(self, name: str, params: dict[str, str]) -> None:
        now = time.time()
        with self._lock2:
            if name == "CreateChangeSet":
                kind = "create" if params.get("ChangeSetType") == "CREATE" else "update"
                self.change_sets[params["ChangeSetName"]] = (now, params["StackName"], kind)
            elif name == "ExecuteChangeSet" and self.hold_stacks:
                _, stack, kind = self.change_sets[_change_set_name(params["ChangeSetName"])]
                seconds = PROFILE[kind] * self.scale
                self.operations[stack] = (now, seconds)
                self.finished[stack] = now + seconds

    def rewrite(self, name: str, params: dict[str, str], body: bytes) -> bytes:
        text = body.decode()
        if name == "DescribeChangeSet":
            created = self.change_sets.get(_change_set_name(params.get("ChangeSetName", "")))
            if created and time.time() < created[0] + PROFILE["change set"] * self.scale:
                text = re.sub(r"<Status>\w+</Status>", "<Status>CREATE_IN_PROGRESS</Status>", text)
                text = re.sub(
                    r"<ExecutionStatus>\w+</ExecutionStatus>", "<ExecutionStatus>UNAVAILABLE</ExecutionStatus>", text
                )
                text = re.sub(r"<StatusReason>.*?</StatusReason>", "", text, flags=re.S)
        elif name in ("DescribeStacks", "DescribeStackEvents"):
            for stack, (started, seconds) in list(self.operations.items()):
                if stack in text and name == "DescribeStacks" and time.time() < started + seconds:
                    text = _hold_status(text)
                elif stack in text and name == "DescribeStackEvents":
                    text = _pace_events(text, started, seconds)
        return text.encode()


def _hold_status(text: str) -> str:
    return re.sub(
        r"<StackStatus>(CREATE|UPDATE)_COMPLETE\w*</StackStatus>", r"<StackStatus>\1_IN_PROGRESS</StackStatus>", text
    )


def _pace_events(text: str, started: float, seconds: float) -> str:
    """The operation's events spread evenly over its time, the final one at its end: each is hidden until then,
    and shown with that time as its Timestamp, even after the operation is over.

    The instant engine stamps them all within milliseconds; a tool that follows events by their timestamps (SAM
    skips any at or before the newest it has shown) would otherwise never see the ones revealed later, and hang.
    """
    members = re.findall(r"<member>.*?</member>", text, flags=re.S)
    new = [m for m in members if _event_time(m) >= started - 0.5]  # newest first, as CloudFormation lists them
    now = time.time()
    for index, member in enumerate(new):
        due = started + seconds * (len(new) - index) / len(new)
        stamp = datetime.fromtimestamp(due, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        shown = re.sub(r"<Timestamp>.*?</Timestamp>", f"<Timestamp>{stamp}</Timestamp>", member)
        text = text.replace(member, shown if due <= now else "", 1)
    return text


def _change_set_name(name_or_arn: str) -> str:
    return name_or_arn.split(":changeSet/")[-1].split("/")[0]


def _event_time(member: str) -> float:
    stamp = re.search(r"<Timestamp>(.*?)</Timestamp>", member).group(1)
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def sam_executable(allowed: bool) -> Path | None:
    """aws-sam-cli in its own venv (made once, then reused); None, with a message, when it cannot install."""
    sam = SAM_HOME / "bin" / "sam"
    if not allowed:
        print("sam deploy: skipped (--no-sam)")
        return None
    if sam.exists():
        return sam
    print(f"installing aws-sam-cli {SAM_VERSION} into {SAM_HOME} (once) ...", flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(SAM_HOME)], capture_output=True, text=True)
    pip = [str(SAM_HOME / "bin" / "python"), "-m", "pip", "install", "-q", f"aws-sam-cli=={SAM_VERSION}"]
    done = made if made.returncode else subprocess.run(pip, capture_output=True, text=True)
    if done.returncode or not sam.exists():
        print(f"sam deploy: skipped, aws-sam-cli could not install: {(done.stderr or done.stdout).strip()[-300:]}")
        return None
    return sam


def sam_deploy(sam: Path, target: Target, env: dict[str, str], stack: str, parameters: dict[str, str]) -> float:
    argv = [
        str(sam), "deploy", "--template-file", str(target.work / "cloudformation" / "app.yaml"), "--stack-name", stack,
        "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "--no-confirm-changeset",
        "--no-fail-on-empty-changeset", "--s3-bucket", parameters["ArtifactBucket"], "--region", "us-east-1",
        "--parameter-overrides", *(f"{k}={v}" for k, v in parameters.items()),
    ]  # fmt: skip
    return run(argv, target.work, {**env, "SAM_CLI_TELEMETRY": "0"}, timeout=LIMIT)[0]


def poller_deploy(target: Target, env: dict[str, str], stack: str, parameters: dict[str, str]) -> float:
    template = str(target.work / "cloudformation" / "app.yaml")
    params = [f"{k}={v}" for k, v in parameters.items()]
    return run([sys.executable, "-c", POLLER, stack, template, "2", *params], target.work, env, timeout=LIMIT)[0]


def verify(target: Target, env: dict[str, str], stack_env: str) -> float:
    return run([str(BIN / "invoke"), "verify", "--environment", stack_env], target.work, env)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--no-sam", action="store_true")
    parser.add_argument("--pace", choices=("engine", "stub"), default="engine")
    args = parser.parse_args()
    sam = sam_executable(not args.no_sam)
    tools = ["invoke deploy", "aws cloudformation deploy", *(["sam deploy"] if sam else []), "2 s poller"]
    environments = [f"wait{r}{i}" for r in range(args.rounds) for i in range(len(tools))]
    metrics = ("noticed", "deploy", "total", "calls")
    results = {(tool, step): {metric: [] for metric in metrics} for tool in tools for step in STEPS}
    engine = args.pace == "engine"
    print(f"stacks paced by {'the engine profile' if engine else 'the stub proxy'}; change sets by the proxy")
    with tempfile.TemporaryDirectory() as folder:
        work = workspace(Path(folder), environments)
        with (
            serve(work, f"aws*{args.scale}" if engine else None) as endpoint,
            Paced(endpoint, args.scale, hold_stacks=not engine) as paced,
        ):
            target = Target(work, endpoint, environments[0])
            env = tool_env(paced.url)
            for index in range(args.rounds):
                order = tools[index % len(tools) :] + tools[: index % len(tools)]  # each round another goes first
                for step in STEPS:
                    if step == "code change":
                        target.change_code(f"wait {index}")
                    for tool in order:
                        _measure(tool, step, index, tools, target, env, paced, sam, results)
                print(f"round {index + 1} done", flush=True)
    _print(results, tools, args)


def finished_at(paced: Paced, endpoint: str, stack: str) -> float | None:
    """When CloudFormation finished the stack's last operation: its own final event (or the stub's record)."""
    if paced.hold_stacks:
        return paced.finished.get(stack)
    import boto3

    import localcloud

    credentials = {k.lower(): v for k, v in localcloud.DUMMY_CREDENTIALS.items()}
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    try:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except cfn.exceptions.ClientError:
        return None
    own = [e for e in events if e["LogicalResourceId"] == stack and e["ResourceStatus"].endswith("_COMPLETE")]
    return own[0]["Timestamp"].timestamp() if own else None


def _measure(tool, step, index, tools, target, env, paced, sam, results) -> None:
    target.environment = f"wait{index}{tools.index(tool)}"
    parameters = target.upload_artifact()
    stack = target.settings().stack_name if tool == "invoke deploy" else f"{stacks_prefix(tool)}-{index}"
    before = finished_at(paced, paced.upstream.geturl(), stack)
    paced.reset()
    try:
        if tool == "invoke deploy":
            seconds = invoke_deploy(target, env, LIMIT)
        elif tool == "aws cloudformation deploy":
            seconds = aws_deploy(target, env, stack, parameters, LIMIT)
        elif tool == "sam deploy":
            seconds = sam_deploy(sam, target, env, stack, parameters)
        else:
            seconds = poller_deploy(target, env, stack, parameters)
    except Hung as hung:
        print(f"round {index + 1}, {step}: {hung}; not counted", flush=True)
        results[(tool, step)]["hung"] = results[(tool, step)].get("hung", 0) + 1
        return
    ended = time.time()
    cell = results[(tool, step)]
    cell["calls"].append(len(paced.calls))  # before anything else goes through the proxy
    finished = finished_at(paced, paced.upstream.geturl(), stack)
    cell["deploy"].append(seconds)
    if finished is not None and finished != before:  # the stack changed: how long after it finished did the tool end
        cell["noticed"].append(ended - finished)
    cell["total"].append(seconds + _verify_stack(target, env, stack, tool))


def stacks_prefix(tool: str) -> str:
    return {"aws cloudformation deploy": "wait-awscli", "sam deploy": "wait-sam", "2 s poller": "wait-poller"}[tool]


def _verify_stack(target: Target, env: dict[str, str], stack: str, tool: str) -> float:
    """`invoke verify` against the stack the tool deployed (the same proof for every tool)."""
    verify_env = {**env, "INVOKE_PIPELINE_VERIFY_TIMEOUT": "60"}
    if tool == "invoke deploy":
        return verify(target, verify_env, target.environment)
    import yaml

    config = target.work / "invoke.yaml"
    original = config.read_text()
    settings = yaml.safe_load(original)
    settings["pipeline"]["environments"][target.environment] = {"stack_name": stack}
    config.write_text(yaml.safe_dump(settings))
    try:
        return verify(target, verify_env, target.environment)
    finally:
        config.write_text(original)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _print(results, tools, args) -> None:
    for (tool, step), cell in results.items():
        if cell.get("hung"):
            print(f"{tool}, {step}: hung {cell['hung']} time(s) (killed after {LIMIT} s, not counted)")
    paces = ", ".join(f"{step} {seconds * args.scale:.1f} s" for step, seconds in PROFILE.items())
    print(f"\nmedians of {args.rounds} rounds, profile scale {args.scale} ({paces}); ratio = tool / ours")
    for metric, title in (
        ("noticed", "noticed after CloudFormation finished"),
        ("deploy", "deploy"),
        ("total", "deploy + invoke verify"),
        ("calls", "AWS API calls per deploy"),
    ):
        print(f"\n{title}{'' if metric == 'calls' else ' (s)'}:")
        print(f"{'step':13}" + "".join(f"{tool:>28}" for tool in tools))
        for step in STEPS:
            ours = _median(results[(tools[0], step)][metric])
            cells = []
            for tool in tools:
                value = _median(results[(tool, step)][metric])
                ratio = f" ({value / ours:.1f}x)" if value is not None and ours and tool != tools[0] else ""
                shown = "-" if value is None else f"{value:.0f}" if metric == "calls" else f"{value:.2f}"
                cells.append(f"{shown}{ratio}".rjust(28))
            print(f"{step:13}" + "".join(cells))


if __name__ == "__main__":
    main()
