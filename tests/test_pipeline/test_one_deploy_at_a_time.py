"""One deploy at a time, on the local cloud (CloudFormation asynchronous, busy stacks refuse).

A deploy that starts while another update of the stack runs is refused, naming the operation in progress, and
uploads and changes nothing; verify from its tree then fails, naming the version that runs and its own.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from localcloud.cloudformation import latency
from pipeline import cfn, commands, verify
from pipeline.config import ROOT, resolve
from pipeline.deploy import StackBusy


def _tree(tmp_path, name: str, comment: str):
    tree = tmp_path / name
    shutil.copytree(ROOT / "lambda", tree, ignore=shutil.ignore_patterns("__pycache__"))
    (tree / "handler.py").write_text((tree / "handler.py").read_text() + f"\n# {comment}\n")
    return tree


def test_the_second_deploy_is_refused_and_verify_from_its_tree_names_both_versions(endpoint, tmp_path):
    settings = resolve({"environments": {"race": {}}, "environment": "race"}, env={"AWS_ENDPOINT_URL": endpoint})
    commands.deploy(settings)
    cloud = commands.aws.connect(settings)
    cfn_client = cloud.client("cloudformation")
    stack = cfn_client.describe_stacks(StackName=settings.stack_name)["Stacks"][0]
    # Someone else's update starts (a memory change), held in progress until released...
    parameters = [
        {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
        for p in stack["Parameters"]
        if p["ParameterKey"] != "FunctionMemorySize"
    ]
    parameters.append({"ParameterKey": "FunctionMemorySize", "ParameterValue": "512"})
    loser = replace(settings, lambda_dir=_tree(tmp_path, "b", "tree B"))
    with latency.holding() as release:
        cfn_client.update_stack(
            StackName=settings.stack_name,
            UsePreviousTemplate=True,
            Parameters=parameters,
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
        # ...and this tree's deploy, started meanwhile, is refused before it uploads anything.
        with pytest.raises(StackBusy) as refused:
            commands.deploy(loser)
        release.set()
        stream = cfn.EventStream(cfn_client, settings.stack_name)
        assert cfn.watch(cfn_client, settings.stack_name, stream, lambda e: None, cfn.Backoff(0.05)) == (
            "UPDATE_COMPLETE"
        )
    assert f"Stack {settings.stack_name} is busy: UPDATE_IN_PROGRESS" in str(refused.value)
    assert "this one changed nothing" in str(refused.value)
    bucket = commands.destination.resolve(loser, cloud).artifact_bucket
    keys = [o["Key"] for o in cloud.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert commands.build_artifact(loser).key not in keys  # nothing uploaded

    with pytest.raises(verify.WrongVersion) as wrong:
        commands.verify(loser)
    running, expected = commands.build_artifact(settings).sha256, commands.build_artifact(loser).sha256
    assert f"running {running}, expected {expected}" in str(wrong.value)
    assert commands.verify(settings).request_id  # what runs is the other tree's version, and it proves itself
