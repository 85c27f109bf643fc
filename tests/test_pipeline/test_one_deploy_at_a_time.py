"""One deploy at a time, on the local cloud paced like AWS (CloudFormation asynchronous, busy stacks refuse).

A deploy that starts while another update of the stack runs is refused, naming the operation in progress, and
uploads and changes nothing; verify from its tree then fails, naming the version that runs and its own.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace

import pytest

from localcloud.cloudformation import latency
from pipeline import commands, verify
from pipeline.config import ROOT, resolve
from pipeline.deploy import StackBusy


@pytest.fixture
def paced(endpoint):
    """The session's local cloud; ``pace()`` turns on 0.3 of AWS's pace (the function's update then takes 1.5 s,
    long enough for a second deploy to meet it), and the instant pace is back when the test ends."""
    yield endpoint, lambda: latency.use(latency.parse("aws*0.3"))
    latency.use(latency.INSTANT)


def _tree(tmp_path, name: str, comment: str):
    tree = tmp_path / name
    shutil.copytree(ROOT / "lambda", tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "handler.py").write_text((tree / "handler.py").read_text() + f"\n# {comment}\n")
    return tree


def test_the_second_deploy_is_refused_and_verify_from_its_tree_names_both_versions(paced, tmp_path):
    endpoint, pace = paced
    settings = resolve({"environments": {"race": {}}, "environment": "race"}, env={"AWS_ENDPOINT_URL": endpoint})
    commands.deploy(settings)
    pace()
    cloud = commands.aws.connect(settings)
    cfn_client = cloud.client("cloudformation")
    stack = cfn_client.describe_stacks(StackName=settings.stack_name)["Stacks"][0]
    # Someone else's update starts (a memory change: the function's update takes 1.5 s at this pace)...
    parameters = [
        {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
        for p in stack["Parameters"]
        if p["ParameterKey"] != "FunctionMemorySize"
    ]
    parameters.append({"ParameterKey": "FunctionMemorySize", "ParameterValue": "512"})
    cfn_client.update_stack(
        StackName=settings.stack_name,
        UsePreviousTemplate=True,
        Parameters=parameters,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    # ...and this tree's deploy, started meanwhile, is refused before it uploads anything.
    loser = replace(settings, lambda_dir=_tree(tmp_path, "b", "tree B"))
    with pytest.raises(StackBusy) as refused:
        commands.deploy(loser)
    assert f"Stack {settings.stack_name} is busy: UPDATE_IN_PROGRESS" in str(refused.value)
    assert "this one changed nothing" in str(refused.value)
    bucket = commands.destination.resolve(loser, cloud).artifact_bucket
    keys = [o["Key"] for o in cloud.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert commands.build_artifact(loser).key not in keys  # nothing uploaded

    _wait_until_settled(cfn_client, settings.stack_name)
    latency.use(latency.INSTANT)
    with pytest.raises(verify.WrongVersion) as wrong:
        commands.verify(loser)
    running, expected = commands.build_artifact(settings).sha256, commands.build_artifact(loser).sha256
    assert f"running {running}, expected {expected}" in str(wrong.value)
    assert commands.verify(settings).request_id  # what runs is the other tree's version, and it proves itself


def _wait_until_settled(cfn_client, stack: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while cfn_client.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"].endswith("_IN_PROGRESS"):
        assert time.monotonic() < deadline, f"{stack} never settled"
        time.sleep(0.1)
