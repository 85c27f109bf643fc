"""Stopping an operation that runs: CancelUpdateStack, and DeleteStack while the stack is still being created.

AWS facts used (and where they come from):
- CancelUpdateStack: "You can cancel only stacks that are in the UPDATE_IN_PROGRESS state" (API reference); "The
  stack proceeds to the UPDATE_ROLLBACK_IN_PROGRESS state. After the update cancellation is complete, the stack is
  set to UPDATE_ROLLBACK_COMPLETE" (User Guide, "Cancel a stack update"). From any other status it is refused with
  ValidationError "CancelUpdateStack cannot be called from current stack status" (the text deploy tools match on,
  e.g. aws/copilot-cli's ``errStackNotInUpdateProgress``). The stack's reason is "Stack update cancelled" and the
  resource caught in flight ends UPDATE_FAILED "Resource update cancelled" (AWS's event texts; localstack's
  AWS-validated test_stack_policies.py matches the latter in the events).
- DeleteStack while CREATE_IN_PROGRESS is accepted (AWS refuses it only for UPDATE_IN_PROGRESS and the rollback
  states): the create stops, the resource in flight ends CREATE_FAILED "Resource creation cancelled", and the
  stack goes DELETE_IN_PROGRESS -> DELETE_COMPLETE, deleting what the create had made.
- Each operation, the rollback included, has its own OperationId; DescribeStacks' LastOperations lists the latest
  operation and its rollback newest first (User Guide, "View stack events by operation": ``[ROLLBACK,
  UPDATE_STACK]`` after a failed update), the ids DescribeEvents groups events by.
"""

from __future__ import annotations

import time
import uuid

import pytest
from botocore.exceptions import ClientError
from stack_waits import TWO_BUCKETS, error_of, held, settled

hold = pytest.fixture(held)

CANNOT_CANCEL = ("ValidationError", "CancelUpdateStack cannot be called from current stack status")


def _events(cf, stack_id: str) -> list[tuple[str, str, str]]:
    events = reversed(cf.describe_stack_events(StackName=stack_id)["StackEvents"])
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in events]


def _wait_for_event(cf, stack_id: str, wanted: tuple[str, str]) -> None:
    while not any((lid, status) == wanted for lid, status, _ in _events(cf, stack_id)):
        time.sleep(0.01)


def _tag(s3, bucket: str) -> str:
    return s3.get_bucket_tagging(Bucket=bucket)["TagSet"][0]["Value"]


def test_cancel_update_stack_rolls_the_update_back(client, hold) -> None:
    cf, s3 = client("cloudformation"), client("s3")
    stack = f"cfn-cancel-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=TWO_BUCKETS)["StackId"]
    settled(cf, stack)
    with pytest.raises(ClientError) as raised:
        cf.cancel_update_stack(StackName=stack)
    assert error_of(raised) == CANNOT_CANCEL  # CREATE_COMPLETE: nothing to cancel
    first = cf.describe_stack_resource(StackName=stack, LogicalResourceId="First")["StackResourceDetail"]
    # First's update is held before the bucket is touched, so the cancel lands while First is in flight however
    # loaded the machine; the cancel ends the hold, and the release lets the rollback run at once.
    release = hold()
    update_id = cf.update_stack(
        StackName=stack, TemplateBody=TWO_BUCKETS, Parameters=[{"ParameterKey": "Stage", "ParameterValue": "two"}]
    )["OperationId"]
    _wait_for_event(cf, stack_id, ("First", "UPDATE_IN_PROGRESS"))
    cf.cancel_update_stack(StackName=stack)
    release.set()

    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    events = _events(cf, stack_id)
    assert (stack, "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled") in events
    assert ("First", "UPDATE_FAILED", "Resource update cancelled") in events
    assert not any(lid == "Second" and status.startswith("UPDATE") for lid, status, _ in events)  # never started
    assert _tag(s3, first["PhysicalResourceId"]) == "one"  # nothing of the update remains
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["Parameters"] == [{"ParameterKey": "Stage", "ParameterValue": "one"}]
    rollback, update = described["LastOperations"]
    assert (rollback["OperationType"], update["OperationType"]) == ("ROLLBACK", "UPDATE_STACK")
    assert update["OperationId"] == update_id
    summary = next(s for s in cf.list_stacks()["StackSummaries"] if s["StackId"] == stack_id)
    assert summary["LastOperations"] == described["LastOperations"]  # StackSummary has it too (botocore's model)
    grouped = cf.describe_events(OperationId=rollback["OperationId"])["OperationEvents"]
    assert (stack, "UPDATE_ROLLBACK_COMPLETE") in [(e["LogicalResourceId"], e["ResourceStatus"]) for e in grouped]
    with pytest.raises(ClientError) as raised:
        cf.cancel_update_stack(StackName=stack)
    assert error_of(raised) == CANNOT_CANCEL
    cf.delete_stack(StackName=stack)
    settled(cf, stack_id)


# A log group, then a bucket: holding buckets only, the log group is made and the bucket is in flight.
GROUP_THEN_BUCKET = """
Resources:
  First:
    Type: AWS::Logs::LogGroup
  Second:
    Type: AWS::S3::Bucket
    DependsOn: First
"""


def test_delete_stack_during_create_stops_it_and_deletes_what_it_made(client, hold) -> None:
    cf, logs = client("cloudformation"), client("logs")
    stack = f"cfn-stopcreate-{uuid.uuid4().hex[:8]}"
    release = hold(types=frozenset({"AWS::S3::Bucket"}))  # the bucket's creation waits until released
    create_id = cf.create_stack(StackName=stack, TemplateBody=GROUP_THEN_BUCKET)["StackId"]
    _wait_for_event(cf, create_id, ("Second", "CREATE_IN_PROGRESS"))  # First is made, Second is in flight
    first = cf.describe_stack_resource(StackName=stack, LogicalResourceId="First")["StackResourceDetail"]
    assert logs.describe_log_groups(logGroupNamePrefix=first["PhysicalResourceId"])["logGroups"]

    cf.delete_stack(StackName=stack)  # accepted, not "cannot be deleted while in status CREATE_IN_PROGRESS"
    release.set()  # the cancel has reached Second already (DeleteStack sets it before answering)

    assert settled(cf, create_id) == "DELETE_COMPLETE"
    events = _events(cf, create_id)
    own = [status for lid, status, _ in events if lid == stack]
    assert own == ["CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert ("Second", "CREATE_FAILED", "Resource creation cancelled") in events
    assert ("First", "DELETE_COMPLETE", "") in events
    assert logs.describe_log_groups(logGroupNamePrefix=first["PhysicalResourceId"])["logGroups"] == []
    operations = cf.describe_stacks(StackName=create_id)["Stacks"][0]["LastOperations"]
    assert [op["OperationType"] for op in operations] == ["DELETE_STACK"]
