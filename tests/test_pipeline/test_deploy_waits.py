"""The deploy's own wait paths, against the local cloud rather than Stubber (its CloudFormation is asynchronous).

AWS behaviour: a stack in UPDATE_IN_PROGRESS refuses another update ("Stack:<arn> is in UPDATE_IN_PROGRESS state
and can not be updated."), so a deploy that finds its stack busy waits for that operation to finish, then makes
and executes its own change set on top of it.
"""

from __future__ import annotations

import pytest
from conftest import write_handler

from localcloud.cloudformation import latency
from pipeline import cfn, commands


@pytest.fixture
def aws_paced():
    yield lambda spec: latency.use(latency.parse(spec))
    latency.use(latency.INSTANT)


def test_a_deploy_waits_for_a_busy_stack_then_deploys_on_top(make_settings, client, capsys, aws_paced) -> None:
    settings = make_settings()
    commands.deploy(settings)
    cf = client("cloudformation")
    deployed = cfn.describe_stack(cf, settings.stack_name)
    previous = [{"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in deployed["Parameters"]]
    others = [p for p in previous if p["ParameterKey"] != "FunctionTimeout"]
    aws_paced("aws*0.3")  # the function's update takes about a second and a half
    # Someone else's update is running when this deploy starts.
    cf.update_stack(
        StackName=settings.stack_name,
        UsePreviousTemplate=True,
        Parameters=[*others, {"ParameterKey": "FunctionTimeout", "ParameterValue": "45"}],
        Capabilities=["CAPABILITY_IAM"],
    )
    write_handler(settings.lambda_dir, (settings.lambda_dir / "handler.py").read_text() + "\n# changed\n")
    capsys.readouterr()

    result = commands.deploy(settings)

    assert f"Stack {settings.stack_name} is busy (UPDATE_IN_PROGRESS); waiting for that to finish." in (
        capsys.readouterr().out
    )
    assert (result.outcome, result.status) == ("deployed", "UPDATE_COMPLETE")
    events = cf.describe_stack_events(StackName=settings.stack_name)["StackEvents"]
    stack_steps = [e["ResourceStatus"] for e in reversed(events) if e["LogicalResourceId"] == settings.stack_name]
    # Both updates ran to completion, one after the other: the other one first, then this deploy's change set.
    assert stack_steps.count("UPDATE_COMPLETE") == 2 and "UPDATE_ROLLBACK_IN_PROGRESS" not in stack_steps
