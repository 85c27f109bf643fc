"""The DescribeEvents API (boto3 1.41+): a stack's operations and their events, by StackName, ChangeSetName or
OperationId, optionally only the failed ones (``Filters={"FailedEvents": true}``).

An operation is one stack action with its own OperationId: the engine's executions (CREATE_STACK, UPDATE_STACK,
DELETE_STACK) and each change set's creation (CREATE_CHANGESET), whose pre-deployment validation findings the
engine keeps on the change set. Each event is an OperationEvent (botocore's CloudFormation service model):
STACK_EVENT for the stack's own status, PROGRESS_EVENT for a resource's progress, PROVISIONING_ERROR for a
resource that failed, and VALIDATION_ERROR for each finding, with ValidationName, ValidationStatus,
ValidationStatusReason, ValidationFailureMode and ValidationPath (User Guide, "Validate stack deployments").
FailedEvents "only returns failed events within the operation" (API reference). Newest first, as
DescribeStackEvents lists them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from localcloud.cloudformation import describe
from localcloud.cloudformation.errors import ValidationError
from localcloud.cloudformation.stacks import change_set_operation_id

STACK_TYPE = "AWS::CloudFormation::Stack"
PAGE_SIZE = 100
_FAILED_TYPES = {"VALIDATION_ERROR", "PROVISIONING_ERROR", "HOOK_INVOCATION_ERROR"}

Wanted = Callable[[str | None, str], bool]  # (change set id, operation id) -> whether the caller asked for it


def describe_events(call: Any) -> dict[str, Any]:
    """The DescribeEvents action on the engine's state of the caller's account and region."""
    params = call.params
    failed_only = bool((params.get("Filters") or {}).get("FailedEvents"))
    events = [event for event in _select(call.region, params) if not failed_only or _failed(event)]
    order = sorted(enumerate(events), key=lambda pair: (pair[1]["Timestamp"], pair[0]), reverse=True)
    start = int(params.get("NextToken") or 0)
    page: dict[str, Any] = {"OperationEvents": [event for _, event in order][start : start + PAGE_SIZE]}
    if start + PAGE_SIZE < len(events):
        page["NextToken"] = str(start + PAGE_SIZE)
    return page


ACTIONS = {"DescribeEvents": describe_events}


def _select(region: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    with region.lock:
        if params.get("ChangeSetName"):
            change_set = region.change_set(params["ChangeSetName"], params.get("StackName"))
            stack = region.stack(change_set.stack_id)
            return _events(region, stack, lambda change_set_id, _op: change_set_id == change_set.change_set_id)
        if params.get("OperationId"):
            wanted = params["OperationId"]
            found = [e for s in region.stacks.values() for e in _events(region, s, lambda _cs, op: op == wanted)]
            known = any(op.operation_id == wanted for s in region.stacks.values() for op in s.operations)
            if not found and not known:
                raise ValidationError(f"Operation {wanted} does not exist")
            return found
        if params.get("StackName"):
            return _events(region, region.stack(params["StackName"]), lambda _cs, _op: True)
    raise ValidationError("One of ChangeSetName, OperationId or StackName must be specified")


def _events(region: Any, stack: Any, wanted: Wanted) -> list[dict[str, Any]]:
    operations = {op.operation_id: op for op in stack.operations if wanted(op.change_set_id, op.operation_id)}
    found = [_event(stack, e, operations[e.operation_id]) for e in list(stack.events) if e.operation_id in operations]
    for change_set in region.change_sets.values():
        if change_set.stack_id == stack.stack_id and change_set.findings:
            operation_id = change_set_operation_id(change_set.change_set_id)
            if wanted(change_set.change_set_id, operation_id):
                found.extend(_validation_events(change_set, operation_id))
    return found


def _operation(stack_id: str, operation_id: str, operation_type: str, status: str, start, end) -> dict:  # type: ignore[no-untyped-def]
    fields = {
        "StackId": stack_id,
        "OperationId": operation_id,
        "OperationType": operation_type,
        "OperationStatus": status,
        "StartTime": start,
        "EndTime": end,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _event(stack: Any, event: Any, operation: Any) -> dict[str, Any]:
    if event.resource_type == STACK_TYPE and event.logical_id == stack.name:
        kind = "STACK_EVENT"
    else:
        kind = "PROVISIONING_ERROR" if event.status.endswith("_FAILED") else "PROGRESS_EVENT"
    action = describe.OPERATION_TYPES.get(operation.action, operation.action)
    shown = {
        "EventId": event.event_id,
        "EventType": kind,
        "LogicalResourceId": event.logical_id,
        "PhysicalResourceId": event.physical_id or None,
        "ResourceType": event.resource_type,
        "Timestamp": event.timestamp,
        "ResourceStatus": event.status,
        "ResourceStatusReason": event.reason,
        "ResourceProperties": event.properties,
        "ClientRequestToken": event.client_request_token,
    }
    shown = {key: value for key, value in shown.items() if value is not None}
    return {
        **shown,
        **_operation(
            stack.stack_id, operation.operation_id, action, operation.status, operation.started, operation.ended
        ),
    }


def _validation_events(change_set: Any, operation_id: str) -> list[dict[str, Any]]:
    status = "FAILED" if any(f.failure_mode == "FAIL" for f in change_set.findings) else "SUCCEEDED"
    when = change_set.created
    common = _operation(change_set.stack_id, operation_id, "CREATE_CHANGESET", status, when, when)
    events = []
    for index, finding in enumerate(change_set.findings):
        event = {
            "EventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{change_set.change_set_id}#{index}")),
            "EventType": "VALIDATION_ERROR",
            "Timestamp": when,
            "LogicalResourceId": finding.logical_id,
            "ResourceType": finding.resource_type,
            "ValidationName": finding.validation_name,
            "ValidationStatus": "FAILED",
            "ValidationStatusReason": finding.status_reason,
            "ValidationFailureMode": finding.failure_mode,
            "ValidationPath": finding.path,
            **common,
        }
        if finding.physical_id:
            event["PhysicalResourceId"] = finding.physical_id
        events.append(event)
    return events


def _failed(event: dict[str, Any]) -> bool:
    return event["EventType"] in _FAILED_TYPES or str(event.get("ResourceStatus", "")).endswith("_FAILED")
