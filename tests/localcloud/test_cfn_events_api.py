"""Unit tests for localcloud.cloudformation.events_api: DescribeEvents over the engine's state, no server.

Member names and enum values are botocore 1.44.8's CloudFormation service model (shapes OperationEvent,
EventType, BeaconStackOperationStatus, OperationType). The VALIDATION_ERROR fields follow AWS's example in the
User Guide "Validate stack deployments" (ValidationName, ValidationStatus FAILED, ValidationStatusReason,
ValidationFailureMode FAIL, ValidationPath); FailedEvents "only returns failed events within the operation"
(API reference, DescribeEvents).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import pytest

from localcloud.cloudformation import events_api, validate
from localcloud.cloudformation.errors import ValidationError
from localcloud.cloudformation.stacks import ChangeSet, Operation, Region, Stack


def _call(region: Region, params: dict, endpoint: str):
    """A verb's call. verbs is imported here, not at the top: it imports moto's CloudFormation package (~1.5 s of
    CPU before a local cloud has started), which every xdist worker would otherwise pay while collecting."""
    from localcloud.cloudformation.verbs import Call

    return Call(region, params, endpoint)


def _model_shapes() -> dict:
    path = Path(botocore.__file__).parent / "data" / "cloudformation" / "2010-05-15" / "service-2.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))["shapes"]


def _region_with_stack() -> tuple[Region, Stack]:
    region = Region("123456789012", "us-east-1")
    stack = Stack(region.arn("stack", "s"), "s", region.account_id, region.region)
    region.stacks[stack.stack_id] = stack
    return region, stack


def _failed_change_set(region: Region, stack: Stack) -> ChangeSet:
    change_set = ChangeSet(region.arn("changeSet", "cs"), "cs", stack.stack_id, stack.name, "CREATE", "", {}, {}, None)
    change_set.findings = validate.findings(
        {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "g", "RetentionInDays": 13}}},
        name_taken=lambda _type, name: name == "g",
    )
    region.change_sets[change_set.change_set_id] = change_set
    return change_set


def _run(stack: Stack, action: str, change_set_id: str | None = None) -> Operation:
    operation = Operation(action, stack.stack_id, change_set_id)
    stack.operation = operation
    stack.operations.append(operation)
    return operation


def _describe(region: Region, **params) -> list[dict]:
    return events_api.describe_events(_call(region, params, "http://127.0.0.1:1"))["OperationEvents"]


def test_validation_errors_of_a_change_set():
    region, stack = _region_with_stack()
    change_set = _failed_change_set(region, stack)
    events = _describe(region, ChangeSetName=change_set.change_set_id, Filters={"FailedEvents": True})
    enum_error = next(event for event in events if event["ValidationName"] == "PROPERTY_VALIDATION")
    assert enum_error == {
        "EventId": enum_error["EventId"],
        "EventType": "VALIDATION_ERROR",
        "Timestamp": change_set.created,
        "LogicalResourceId": "Logs",
        "ResourceType": "AWS::Logs::LogGroup",
        "ValidationName": "PROPERTY_VALIDATION",
        "ValidationStatus": "FAILED",
        "ValidationStatusReason": "#/RetentionInDays: 13 is not a valid enum value",
        "ValidationFailureMode": "FAIL",
        "ValidationPath": "/Resources/Logs/Properties/RetentionInDays",
        "StackId": stack.stack_id,
        "OperationId": events_api.change_set_operation_id(change_set.change_set_id),
        "OperationType": "CREATE_CHANGESET",
        "OperationStatus": "FAILED",
        "StartTime": change_set.created,
        "EndTime": change_set.created,
    }
    conflict = next(event for event in events if event["ValidationName"] == "NAME_CONFLICT_VALIDATION")
    assert conflict["PhysicalResourceId"] == "g"
    again = _describe(region, ChangeSetName="cs", StackName="s")
    assert [e["EventId"] for e in again] == [e["EventId"] for e in events]  # stable ids, by name or by ARN
    assert _describe(region, OperationId=enum_error["OperationId"]) == again


def test_progress_and_provisioning_errors_and_the_failed_filter():
    region, stack = _region_with_stack()
    operation = _run(stack, "CREATE")
    stack.set_status("CREATE_IN_PROGRESS", "User Initiated")
    stack.record("Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS")
    stack.record("Queue", "AWS::SQS::Queue", "CREATE_COMPLETE", "https://q")
    stack.record("Custom", "Custom::Thing", "CREATE_FAILED", reason="The function answered FAILED")
    stack.set_status("ROLLBACK_IN_PROGRESS")
    operation.status = "FAILED"

    everything = _describe(region, StackName="s")
    assert [(e["EventType"], e["LogicalResourceId"]) for e in reversed(everything)] == [
        ("STACK_EVENT", "s"),
        ("PROGRESS_EVENT", "Queue"),
        ("PROGRESS_EVENT", "Queue"),
        ("PROVISIONING_ERROR", "Custom"),
        ("STACK_EVENT", "s"),
    ]
    assert everything[-3]["PhysicalResourceId"] == "https://q" and "PhysicalResourceId" not in everything[-2]
    [failed] = _describe(region, StackName="s", Filters={"FailedEvents": True})
    assert (failed["LogicalResourceId"], failed["ResourceStatusReason"]) == ("Custom", "The function answered FAILED")
    assert (failed["OperationType"], failed["OperationStatus"]) == ("CREATE_STACK", "FAILED")


def test_change_set_events_include_its_execution_but_not_other_operations():
    region, stack = _region_with_stack()
    change_set = _failed_change_set(region, stack)
    other = _run(stack, "UPDATE")
    stack.set_status("UPDATE_IN_PROGRESS")
    execution = _run(stack, "UPDATE", change_set.change_set_id)
    stack.set_status("UPDATE_COMPLETE")
    ids = {event["OperationId"] for event in _describe(region, ChangeSetName=change_set.change_set_id)}
    assert ids == {execution.operation_id, events_api.change_set_operation_id(change_set.change_set_id)}
    assert other.operation_id not in ids


def test_pages_and_refusals():
    region, stack = _region_with_stack()
    _run(stack, "CREATE")
    for index in range(events_api.PAGE_SIZE + 5):
        stack.record(f"R{index}", "AWS::SQS::Queue", "CREATE_COMPLETE")
    first = events_api.describe_events(_call(region, {"StackName": "s"}, ""))
    second = events_api.describe_events(_call(region, {"StackName": "s", "NextToken": first["NextToken"]}, ""))
    assert len(first["OperationEvents"]) == events_api.PAGE_SIZE and len(second["OperationEvents"]) == 5
    assert "NextToken" not in second
    with pytest.raises(ValidationError):
        _describe(region)
    with pytest.raises(ValidationError):
        _describe(region, OperationId="no-such-operation")


def test_every_member_is_in_the_service_model():
    shapes = _model_shapes()
    members = set(shapes["OperationEvent"]["members"])
    region, stack = _region_with_stack()
    _failed_change_set(region, stack)
    _run(stack, "DELETE")
    stack.record("Q", "AWS::SQS::Queue", "DELETE_FAILED", "q", reason="boom", properties="{}")
    for event in _describe(region, StackName="s"):
        assert set(event) <= members, set(event) - members
        assert event["EventType"] in shapes["EventType"]["enum"]
        assert event["OperationType"] in shapes["OperationType"]["enum"]
        assert event["OperationStatus"] in shapes["BeaconStackOperationStatus"]["enum"]
