"""The deploy's own wait paths, against the local cloud rather than Stubber (its CloudFormation is asynchronous).

AWS behaviour: a stack in UPDATE_IN_PROGRESS refuses another update ("Stack:<arn> is in UPDATE_IN_PROGRESS state
and can not be updated."). One deploy at a time (issue 8): a deploy that finds its stack busy is refused before it
packages anything, naming the operation in progress; and a change set is OBSOLETE once the stack was updated by
something else (DescribeChangeSet API reference, ExecutionStatus).
"""

from __future__ import annotations

import contextlib

import pytest
from conftest import write_handler

from localcloud.cloudformation import latency
from pipeline import cfn, commands, deploy
from pipeline.errors import Interrupted, UserError


def _deployed(settings, client):
    """Deploy once; the CloudFormation client and the stack's parameters but FunctionTimeout, as previous values
    (what another update passes to change only the timeout)."""
    commands.deploy(settings)
    cf = client("cloudformation")
    deployed = cfn.describe_stack(cf, settings.stack_name)
    previous = [{"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in deployed["Parameters"]]
    return cf, [p for p in previous if p["ParameterKey"] != "FunctionTimeout"]


def _settled(cf, stack_name: str) -> str:
    return cfn.watch(cf, stack_name, cfn.EventStream(cf, stack_name), lambda e: None, cfn.Backoff(0.05))


def test_a_deploy_that_finds_its_stack_busy_is_refused_and_changes_nothing(make_settings, client, capsys) -> None:
    settings = make_settings()
    cf, others = _deployed(settings, client)
    with latency.holding() as release:  # someone else's update is running (held) when this deploy starts
        cf.update_stack(
            StackName=settings.stack_name,
            UsePreviousTemplate=True,
            Parameters=[*others, {"ParameterKey": "FunctionTimeout", "ParameterValue": "45"}],
            Capabilities=["CAPABILITY_IAM"],
        )
        write_handler(settings.lambda_dir, (settings.lambda_dir / "handler.py").read_text() + "\n# changed\n")

        with pytest.raises(deploy.StackBusy, match=r"is busy: UPDATE_IN_PROGRESS.*this one changed nothing"):
            commands.deploy(settings)
        release.set()
        assert _settled(cf, settings.stack_name) == "UPDATE_COMPLETE"
    events = cf.describe_stack_events(StackName=settings.stack_name)["StackEvents"]
    stack_steps = [e["ResourceStatus"] for e in reversed(events) if e["LogicalResourceId"] == settings.stack_name]
    # Only the other update ran: this deploy executed nothing (one create, one update).
    assert stack_steps.count("UPDATE_COMPLETE") == 1 and stack_steps.count("CREATE_COMPLETE") == 1


def test_a_deploy_whose_change_set_is_overtaken_by_another_update_changes_nothing(
    make_settings, client, monkeypatch
) -> None:
    """Between our CreateChangeSet and ExecuteChangeSet another update starts (another deploy, a console user):
    ExecuteChangeSet is refused as busy, the deploy stops with a user error that says so, and only the other
    update runs; once it is done, our change set is OBSOLETE."""
    settings = make_settings()
    cf, others = _deployed(settings, client)
    wait_for_change_set = deploy.Deployer._wait_for_change_set
    ours: list[str] = []
    held = contextlib.ExitStack()

    def overtaken(self, stack_name: str, name: str):
        described = wait_for_change_set(self, stack_name, name)
        ours.append(described["ChangeSetId"])
        held.enter_context(latency.holding())  # the other update stays in progress until released
        cf.update_stack(
            StackName=stack_name,
            UsePreviousTemplate=True,
            Parameters=[*others, {"ParameterKey": "FunctionTimeout", "ParameterValue": "45"}],
            Capabilities=["CAPABILITY_IAM"],
        )
        return described

    monkeypatch.setattr(deploy.Deployer, "_wait_for_change_set", overtaken)
    write_handler(settings.lambda_dir, (settings.lambda_dir / "handler.py").read_text() + "\n# overtaken\n")

    with held, pytest.raises(UserError, match="another operation started meanwhile"):
        commands.deploy(settings)

    assert _settled(cf, settings.stack_name) == "UPDATE_COMPLETE"
    assert cf.describe_change_set(ChangeSetName=ours[0])["ExecutionStatus"] == "OBSOLETE"


def test_ctrl_c_while_following_the_execution_leaves_cloudformation_carrying_on(
    make_settings, client, monkeypatch
) -> None:
    """Ctrl-C after ExecuteChangeSet stops only the deploy's watching: the deploy says CloudFormation carries on,
    and the stack's update does finish without it (CloudFormation runs operations on its own side)."""
    settings = make_settings()
    commands.deploy(settings)
    cf = client("cloudformation")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(deploy.cfn, "follow", interrupted)
    write_handler(settings.lambda_dir, (settings.lambda_dir / "handler.py").read_text() + "\n# interrupted\n")

    with latency.holding() as release:  # the update is still running (held) when Ctrl-C comes
        with pytest.raises(Interrupted, match="CloudFormation carries on"):
            commands.deploy(settings)

        assert cf.describe_stacks(StackName=settings.stack_name)["Stacks"][0]["StackStatus"] == "UPDATE_IN_PROGRESS"
        monkeypatch.undo()
        release.set()
        assert _settled(cf, settings.stack_name) == "UPDATE_COMPLETE"
