"""AWS behaviours no emulator produces, through botocore's Stubber: throttling, UPDATE_ROLLBACK_FAILED,
an update already in progress, and Ctrl-C during execution."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from botocore.stub import ANY

from pipeline.cfn import Backoff, EventStream, is_own_event, watch
from pipeline.deploy import ChangeSetObsolete, Deployer, DeployRequest, StackBusy
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


def test_a_deploy_refuses_to_start_while_someone_else_updates_the_stack(cfn):
    """One deploy at a time: name the operation in progress, change nothing, say to wait and retry."""
    client, stubber = cfn
    busy = _stack("UPDATE_IN_PROGRESS")
    busy["Stacks"][0]["LastUpdatedTime"] = NOW
    busy["Stacks"][0]["ChangeSetId"] = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/deploy-other/1a2b"
    stubber.add_response("describe_stacks", busy, {"StackName": "app-dev"})
    with pytest.raises(StackBusy) as refused:
        Deployer(client, sleep=lambda s: None).deploy(REQUEST)
    message = str(refused.value)
    assert "Stack app-dev is busy: UPDATE_IN_PROGRESS since 00:00:00 UTC, executing change set deploy-other" in message
    assert "this one changed nothing" in message and "run `invoke deploy` again" in message
    assert refused.value.exit_code == 75  # EX_TEMPFAIL: a retry later is the fix


def test_a_change_set_made_obsolete_by_another_deploy_is_reported_not_success(cfn):
    client, stubber = cfn
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, None)
    stubber.add_response("create_change_set", {"Id": "cs"}, None)
    stubber.add_response("describe_change_set", _change_set(), None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("describe_stack_events", {"StackEvents": [_event("e1", "UPDATE_COMPLETE")]}, None)
    stubber.add_client_error(
        "execute_change_set",
        "InvalidChangeSetStatus",
        "ChangeSet [arn:aws:cloudformation:us-east-1:123456789012:changeSet/deploy-x/1] cannot be executed in its "
        "current status of [OBSOLETE]",
        400,
    )
    stubber.add_response("delete_change_set", {}, None)  # an obsolete change set can never run: tidied away
    with pytest.raises(ChangeSetObsolete, match=r"OBSOLETE.*another deploy executed its own change set first"):
        Deployer(client, sleep=lambda s: None).deploy(REQUEST)


def test_a_change_set_already_obsolete_when_described_is_never_executed(cfn):
    client, stubber = cfn
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, None)
    stubber.add_response("create_change_set", {"Id": "cs"}, None)
    stubber.add_response("describe_change_set", {**_change_set(), "ExecutionStatus": "OBSOLETE"}, None)
    stubber.add_response("delete_change_set", {}, None)
    with pytest.raises(ChangeSetObsolete, match="ran nothing"):
        Deployer(client, sleep=lambda s: None).deploy(REQUEST)


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


def test_the_execution_is_followed_through_its_events_and_confirmed_once(cfn):
    """One DescribeStackEvents per poll while the stack runs; DescribeStacks only once the stack's own event says
    it settled, and that answer gives the outputs too (the Stubber fails on any call out of this order). Right
    after ExecuteChangeSet the stack may still show the old UPDATE_COMPLETE: that is never asked for."""
    client, stubber = cfn
    seen = []

    from pipeline.deploy import Progress

    class Capture(Progress):
        def event(self, event):
            seen.append(f"{event['LogicalResourceId']} {event['ResourceStatus']}")

    old = _event("e0", "UPDATE_COMPLETE")
    started, finished = _event("e1", "UPDATE_IN_PROGRESS", reason="User Initiated"), _event("e2", "UPDATE_COMPLETE")
    queue = _event("e3", "UPDATE_COMPLETE", logical="Q")
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("get_template", {"TemplateBody": "old"}, None)
    stubber.add_response("create_change_set", {"Id": "cs"}, None)
    stubber.add_response("describe_change_set", _change_set(), None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "app-dev"})
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, None)  # the mark
    stubber.add_response("execute_change_set", {}, None)
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, None)  # nothing new yet
    stubber.add_response("describe_stack_events", {"StackEvents": [started, old]}, None)
    stubber.add_response("describe_stack_events", {"StackEvents": [queue, started, old]}, None)
    stubber.add_response("describe_stack_events", {"StackEvents": [finished, queue, started, old]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})  # and its outputs
    result = Deployer(client, Capture(), sleep=lambda s: None).deploy(REQUEST)
    assert result.status == "UPDATE_COMPLETE"
    assert seen == ["app-dev UPDATE_IN_PROGRESS", "Q UPDATE_COMPLETE", "app-dev UPDATE_COMPLETE"]


def _watch(client, **kwargs):
    stream = EventStream(client, STACK_ID)
    return watch(client, STACK_ID, stream, lambda e: None, Backoff(sleep=lambda s: None), **kwargs)


def test_a_stale_settled_status_right_after_execution_is_not_trusted(cfn):
    """When DescribeStacks is asked before the new operation's first event (here: at every poll), its old
    UPDATE_COMPLETE does not end the watch; the new operation's own UPDATE_COMPLETE does."""
    client, stubber = cfn
    old, started = _event("e0", "UPDATE_COMPLETE"), _event("e1", "UPDATE_IN_PROGRESS")
    finished = _event("e2", "UPDATE_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, None)  # EventStream.mark
    stubber.add_response("describe_stack_events", {"StackEvents": [old]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})  # stale
    stubber.add_response("describe_stack_events", {"StackEvents": [started, old]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [finished, started, old]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stream = EventStream(client, STACK_ID)
    stream.mark()
    sleep = Backoff(sleep=lambda s: None)
    assert (
        watch(client, STACK_ID, stream, lambda e: None, sleep, expect_new_events=True, confirm_every=1)
        == "UPDATE_COMPLETE"
    )


def test_a_silent_no_op_is_asked_for_after_the_grace_polls(cfn):
    """No event ever comes: DescribeStacks is asked once the grace polls are over, and its status is taken."""
    client, stubber = cfn
    for _ in range(3):
        stubber.add_response("describe_stack_events", {"StackEvents": []}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": []}, None)
    assert _watch(client, expect_new_events=True, grace_polls=2, confirm_every=100) == "UPDATE_COMPLETE"


def test_without_an_expected_operation_the_first_poll_asks_for_the_stack(cfn):
    """Watching a stack that may already be done (no operation of ours started): it is asked at once."""
    client, stubber = cfn
    stubber.add_response("describe_stack_events", {"StackEvents": [_event("e0", "CREATE_COMPLETE")]}, None)
    stubber.add_response("describe_stacks", _stack("CREATE_COMPLETE"), {"StackName": STACK_ID})
    assert _watch(client) == "CREATE_COMPLETE"


def test_a_stack_found_settled_without_its_final_event_shows_the_rest_first(cfn):
    """The periodic DescribeStacks found it done before its own final event was read: that event is read and
    shown before the watch ends."""
    client, stubber = cfn
    seen = []
    started, finished = _event("e1", "UPDATE_IN_PROGRESS"), _event("e2", "UPDATE_COMPLETE")
    stubber.add_response("describe_stack_events", {"StackEvents": [started]}, None)
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [finished, started]}, None)
    stream = EventStream(client, STACK_ID)
    status = watch(client, STACK_ID, stream, seen.append, Backoff(sleep=lambda s: None), confirm_every=1)
    assert status == "UPDATE_COMPLETE" and [e["EventId"] for e in seen] == ["e1", "e2"]


def test_only_the_stacks_own_events_count_as_its_status():
    """Shapes from the AWS CLI reference's `aws cloudformation describe-stack-events` example: the stack's own
    event has ResourceType AWS::CloudFormation::Stack and its name as LogicalResourceId."""
    own = {**_event("e1", "UPDATE_COMPLETE"), "StackId": STACK_ID, "PhysicalResourceId": STACK_ID}
    nested = {**own, "LogicalResourceId": "Nested", "PhysicalResourceId": f"{STACK_ID}-nested"}
    assert is_own_event(own) and is_own_event(_event("e2", "UPDATE_COMPLETE"))
    assert not is_own_event(nested) and not is_own_event(_event("e3", "UPDATE_COMPLETE", logical="Q"))
