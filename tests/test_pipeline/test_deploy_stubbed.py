"""AWS behaviours no emulator produces, through botocore's Stubber: throttling, UPDATE_ROLLBACK_FAILED,
an update already in progress, and Ctrl-C during execution."""

from __future__ import annotations

import datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pipeline.cfn import Backoff
from pipeline.deploy import Deployer, DeployRequest
from pipeline.errors import Interrupted, UserError
from pipeline.template import Template

BODY = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
REQUEST = DeployRequest("app-dev", Template(Path("t.yaml"), BODY, {"Resources": {}}))
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/app-dev/1"


def _stack(status):
    stack = {"StackName": "app-dev", "StackId": STACK_ID, "StackStatus": status, "CreationTime": NOW, "Outputs": []}
    return {"Stacks": [stack]}


def _event(event_id, status, logical="app-dev", reason=None):
    event = {
        "StackId": "id",
        "EventId": event_id,
        "StackName": "app-dev",
        "LogicalResourceId": logical,
        "ResourceType": "AWS::CloudFormation::Stack" if logical == "app-dev" else "AWS::SQS::Queue",
        "Timestamp": NOW,
        "ResourceStatus": status,
    }
    if reason:
        event["ResourceStatusReason"] = reason
    return event


@pytest.fixture
def cfn():
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_update_rollback_failed_stops_before_touching_anything(cfn):
    client, stubber = cfn
    stubber.add_response("describe_stacks", _stack("UPDATE_ROLLBACK_FAILED"), {"StackName": "app-dev"})
    with pytest.raises(UserError, match="continue-update-rollback --stack-name app-dev"):
        Deployer(client, sleep=lambda s: None).deploy(REQUEST)


def test_throttling_while_polling_backs_off_and_carries_on(cfn):
    client, stubber = cfn
    sleeps = []
    stubber.add_response("describe_stacks", _stack("CREATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, {"StackName": "app-dev", "TemplateStage": "Original"})
    stubber.add_response("create_change_set", {"Id": "cs"}, None)
    stubber.add_client_error("describe_change_set", "Throttling", "Rate exceeded", 400)
    stubber.add_client_error("describe_change_set", "Throttling", "Rate exceeded", 400)
    stubber.add_response("describe_change_set", {"Status": "CREATE_PENDING", "Changes": []}, None)
    stubber.add_response(
        "describe_change_set",
        {
            "Status": "FAILED",
            "StatusReason": "The submitted information didn't contain changes. Submit different "
            "information to create a change set.",
            "Changes": [],
        },
        None,
    )
    stubber.add_response("delete_change_set", {}, {"StackName": "app-dev", "ChangeSetName": ANY})
    result = Deployer(client, sleep=sleeps.append).deploy(REQUEST)
    assert result.outcome == "no changes"
    # about a second at first, growing faster while throttled, never a fixed attempt ceiling
    assert sleeps[0] == Backoff.initial and sleeps[1] > sleeps[0] * 2 and len(sleeps) == 3


def test_an_update_in_progress_is_waited_for_with_progress(cfn):
    client, stubber = cfn
    messages = []

    from pipeline.deploy import Progress

    class Capture(Progress):
        def message(self, text):
            messages.append(text)

        def event(self, event):
            messages.append(f"{event['LogicalResourceId']} {event['ResourceStatus']}")

    history = _event("e1", "UPDATE_IN_PROGRESS", reason="User Initiated")  # before we started waiting
    e2, e3 = _event("e2", "UPDATE_COMPLETE", "Q"), _event("e3", "UPDATE_COMPLETE")
    stubber.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS"), {"StackName": "app-dev"})
    stubber.add_response("describe_stack_events", {"StackEvents": [history]}, None)  # the starting mark
    stubber.add_response("describe_stack_events", {"StackEvents": [e2, history]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [e3, e2, history]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [e3, e2, history]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": BODY}, None)
    result = Deployer(client, Capture(), sleep=lambda s: None).deploy(REQUEST)
    assert result.outcome == "no changes"
    assert "busy (UPDATE_IN_PROGRESS)" in messages[0]
    # only what happened while we waited, each event once, oldest first; no replay of history
    assert messages[1:] == ["Q UPDATE_COMPLETE", "app-dev UPDATE_COMPLETE"]


def test_a_concurrent_update_racing_the_change_set_is_a_clear_error(cfn):
    client, stubber = cfn
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, None)
    stubber.add_client_error(
        "create_change_set",
        "ValidationError",
        "Stack:arn:aws:cloudformation:us-east-1:1:stack/app-dev/x is in UPDATE_IN_PROGRESS state "
        "and can not be updated.",
        400,
    )
    with pytest.raises(UserError, match=r"another operation.*UPDATE_IN_PROGRESS.*Nothing was changed.*invoke deploy"):
        Deployer(client, sleep=lambda s: None).deploy(REQUEST)


def test_ctrl_c_during_execution_says_cloudformation_carries_on(cfn):
    client, stubber = cfn
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, None)
    stubber.add_response("create_change_set", {"Id": "cs"}, None)
    stubber.add_response(
        "describe_change_set",
        {
            "Status": "CREATE_COMPLETE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": "Q",
                        "ResourceType": "AWS::SQS::Queue",
                        "Replacement": "False",
                    },
                }
            ],
        },
        None,
    )
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("describe_stack_events", {"StackEvents": [_event("e1", "UPDATE_COMPLETE")]}, None)
    stubber.add_response("execute_change_set", {}, None)

    def interrupt(_seconds):
        raise KeyboardInterrupt

    stubber.add_response("describe_stack_events", {"StackEvents": [_event("e1", "UPDATE_COMPLETE")]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    with pytest.raises(Interrupted, match="CloudFormation carries on with stack app-dev") as caught:
        Deployer(client, sleep=interrupt).deploy(REQUEST)
    assert caught.value.exit_code == 130


def _change_set(status="CREATE_COMPLETE"):
    change = {"Action": "Modify", "LogicalResourceId": "Q", "ResourceType": "AWS::SQS::Queue", "Replacement": "False"}
    return {"Status": status, "Changes": [{"Type": "Resource", "ResourceChange": change}]}


def test_ctrl_c_before_execution_deletes_the_change_set(cfn):
    client, stubber = cfn
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, None)
    stubber.add_response("create_change_set", {"Id": "cs"}, None)
    stubber.add_response("describe_change_set", _change_set("CREATE_PENDING"), None)
    stubber.add_response("delete_change_set", {}, {"StackName": "app-dev", "ChangeSetName": ANY})

    def interrupt(_seconds):
        raise KeyboardInterrupt

    with pytest.raises(Interrupted, match=r"before anything was executed: change set deploy-.* was deleted"):
        Deployer(client, sleep=interrupt).deploy(REQUEST)


def test_a_stale_settled_status_right_after_execution_is_not_trusted(cfn):
    """DescribeStacks may still show the old UPDATE_COMPLETE; wait for the new operation's events."""
    client, stubber = cfn
    seen = []

    from pipeline.deploy import Progress

    class Capture(Progress):
        def event(self, event):
            seen.append(f"{event['LogicalResourceId']} {event['ResourceStatus']}")

    old = _event("e0", "UPDATE_COMPLETE")
    started, finished = _event("e1", "UPDATE_IN_PROGRESS", reason="User Initiated"), _event("e2", "UPDATE_COMPLETE")
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, None)
    stubber.add_response("create_change_set", {"Id": "cs"}, None)
    stubber.add_response("describe_change_set", _change_set(), None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, None)  # the mark
    stubber.add_response("execute_change_set", {}, None)
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, None)  # nothing new yet
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})  # stale
    stubber.add_response("describe_stack_events", {"StackEvents": [started, old]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [finished, started, old]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [finished, started, old]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    result = Deployer(client, Capture(), sleep=lambda s: None).deploy(REQUEST)
    assert result.status == "UPDATE_COMPLETE"
    assert seen == ["app-dev UPDATE_IN_PROGRESS", "app-dev UPDATE_COMPLETE"]
