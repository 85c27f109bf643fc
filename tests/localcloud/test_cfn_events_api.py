"""Unit tests for localcloud.cloudformation.events_api: the operation log behind DescribeEvents.

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

from localcloud.cloudformation import events_api, validate

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"
CHANGE_SET = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/c/1"


def _model_shapes() -> dict:
    path = Path(botocore.__file__).parent / "data" / "cloudformation" / "2010-05-15" / "service-2.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))["shapes"]


def _failed_change_set(log: events_api.OperationLog) -> str:
    operation = log.begin(STACK, "CREATE_CHANGESET", change_set_id=CHANGE_SET)
    findings = validate.findings(
        {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "g", "RetentionInDays": 13}}},
        name_taken=lambda type_name, name: name == "g",
    )
    log.validation_errors(operation, findings)
    log.finish(operation, succeeded=False)
    return operation


def test_validation_errors_of_a_change_set():
    log = events_api.OperationLog()
    operation = _failed_change_set(log)
    events = log.describe(change_set_id=CHANGE_SET, failed_only=True)["OperationEvents"]
    assert {event["ValidationName"] for event in events} == {
        "AWS::EarlyValidation::PropertyValidation",
        "AWS::EarlyValidation::ResourceExistenceCheck",
    }
    enum_error = next(event for event in events if event["ValidationName"].endswith("PropertyValidation"))
    assert {
        key: enum_error[key]
        for key in enum_error
        if key.startswith(("Validation", "Event", "Operation", "Logical", "Resource"))
    } == {
        "EventId": enum_error["EventId"],
        "EventType": "VALIDATION_ERROR",
        "LogicalResourceId": "Logs",
        "ResourceType": "AWS::Logs::LogGroup",
        "ValidationName": "AWS::EarlyValidation::PropertyValidation",
        "ValidationStatus": "FAILED",
        "ValidationStatusReason": "#/RetentionInDays: 13 is not a valid enum value",
        "ValidationFailureMode": "FAIL",
        "ValidationPath": "/Resources/Logs/Properties/RetentionInDays",
        "OperationId": operation,
        "OperationType": "CREATE_CHANGESET",
        "OperationStatus": "FAILED",
    }
    conflict = next(event for event in events if event["ValidationName"].endswith("ResourceExistenceCheck"))
    assert conflict["PhysicalResourceId"] == "g"
    assert log.describe(operation_id=operation)["OperationEvents"] == log.describe(stack_id=STACK)["OperationEvents"]


def test_progress_and_provisioning_errors_and_the_failed_filter():
    log = events_api.OperationLog()
    operation = log.begin(STACK, "CREATE_STACK")
    log.stack_status(operation, "s", "CREATE_IN_PROGRESS", "User Initiated")
    log.resource_status(operation, "Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", PhysicalResourceId=None)
    log.resource_status(operation, "Queue", "AWS::SQS::Queue", "CREATE_COMPLETE", PhysicalResourceId="https://q")
    log.resource_status(operation, "Custom", "Custom::Thing", "CREATE_FAILED", "The function answered FAILED")
    log.stack_status(operation, "s", "ROLLBACK_IN_PROGRESS")
    log.finish(operation, succeeded=False)

    everything = log.describe(stack_id=STACK)["OperationEvents"]
    assert [event["EventType"] for event in reversed(everything)] == [
        "STACK_EVENT",
        "PROGRESS_EVENT",
        "PROGRESS_EVENT",
        "PROVISIONING_ERROR",
        "STACK_EVENT",
    ]
    assert everything[-3]["PhysicalResourceId"] == "https://q"
    assert "PhysicalResourceId" not in everything[-2]
    [failed] = log.describe(stack_id=STACK, failed_only=True)["OperationEvents"]
    assert (failed["LogicalResourceId"], failed["ResourceStatusReason"]) == ("Custom", "The function answered FAILED")
    assert failed["EndTime"] >= failed["StartTime"]


def test_change_set_events_include_its_execution_but_not_other_operations():
    log = events_api.OperationLog()
    _failed_change_set(log)
    other = log.begin(STACK, "UPDATE_STACK")
    log.stack_status(other, "s", "UPDATE_IN_PROGRESS")
    execution = log.begin(STACK, "UPDATE_STACK")
    log.link_change_set(execution, CHANGE_SET)
    log.stack_status(execution, "s", "UPDATE_COMPLETE")
    ids = {event["OperationId"] for event in log.describe(change_set_id=CHANGE_SET)["OperationEvents"]}
    assert other not in ids and execution in ids and len(ids) == 2


def test_pages_of_events():
    log = events_api.OperationLog()
    operation = log.begin(STACK, "CREATE_STACK")
    for index in range(events_api.PAGE_SIZE + 5):
        log.resource_status(operation, f"R{index}", "AWS::SQS::Queue", "CREATE_COMPLETE")
    first = log.describe(stack_id=STACK)
    second = log.describe(stack_id=STACK, next_token=first["NextToken"])
    assert len(first["OperationEvents"]) == events_api.PAGE_SIZE and len(second["OperationEvents"]) == 5
    assert "NextToken" not in second


def test_every_member_is_in_the_service_model():
    shapes = _model_shapes()
    members = set(shapes["OperationEvent"]["members"])
    log = events_api.OperationLog()
    _failed_change_set(log)
    operation = log.begin(STACK, "CREATE_STACK")
    log.resource_status(operation, "Q", "AWS::SQS::Queue", "CREATE_FAILED", "boom", PhysicalResourceId="q")
    log.finish(operation, succeeded=False)
    for event in log.describe(stack_id=STACK)["OperationEvents"]:
        assert set(event) <= members, set(event) - members
        assert event["EventType"] in shapes["EventType"]["enum"]
        assert event["OperationType"] in shapes["OperationType"]["enum"]
        assert event["OperationStatus"] in shapes["BeaconStackOperationStatus"]["enum"]
