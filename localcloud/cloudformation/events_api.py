"""The operations of each stack and their events, as the DescribeEvents API returns them (boto3 1.41+).

An operation is one stack action (CREATE_STACK, UPDATE_STACK, DELETE_STACK, ROLLBACK, CONTINUE_ROLLBACK,
CREATE_CHANGESET) with its own OperationId. Its events are OperationEvent structures (botocore's CloudFormation
service model, shape OperationEvent): EventType STACK_EVENT for the stack's own status, PROGRESS_EVENT for a
resource's progress, PROVISIONING_ERROR for a resource that failed, and VALIDATION_ERROR for each pre-deployment
validation finding, with ValidationName, ValidationStatus, ValidationStatusReason, ValidationFailureMode and
ValidationPath. ``Filters={"FailedEvents": true}`` keeps the failed ones only (API reference, DescribeEvents).

The engine records into an ``OperationLog``; its API layer resolves StackName / ChangeSetName to ids and answers
DescribeEvents with ``describe``. Events come newest first, as DescribeStackEvents gives them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from localcloud.cloudformation.validate import Finding

STACK_TYPE = "AWS::CloudFormation::Stack"
_FAILED_TYPES = {"VALIDATION_ERROR", "PROVISIONING_ERROR", "HOOK_INVOCATION_ERROR"}
PAGE_SIZE = 100


@dataclass
class _Operation:
    operation_id: str
    stack_id: str
    operation_type: str
    change_set_id: str | None
    status: str = "IN_PROGRESS"  # IN_PROGRESS | SUCCEEDED | FAILED (BeaconStackOperationStatus)
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime | None = None
    events: list[dict] = field(default_factory=list)


class OperationLog:
    """Every operation of every stack in one account and region, and their events; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._operations: dict[str, _Operation] = {}

    def begin(self, stack_id: str, operation_type: str, *, change_set_id: str | None = None) -> str:
        """Start an operation; answers its OperationId."""
        operation = _Operation(str(uuid.uuid4()), stack_id, operation_type, change_set_id)
        with self._lock:
            self._operations[operation.operation_id] = operation
        return operation.operation_id

    def finish(self, operation_id: str, *, succeeded: bool) -> None:
        with self._lock:
            operation = self._operations[operation_id]
            operation.status = "SUCCEEDED" if succeeded else "FAILED"
            operation.end = datetime.now(UTC)

    def stack_status(self, operation_id: str, stack_name: str, status: str, reason: str = "", **extra) -> None:
        """A STACK_EVENT: the stack itself reached ``status`` (e.g. UPDATE_IN_PROGRESS, CREATE_FAILED)."""
        fields = {"LogicalResourceId": stack_name, "ResourceType": STACK_TYPE, "ResourceStatus": status}
        self._add(operation_id, "STACK_EVENT", fields, reason, extra)

    def resource_status(
        self, operation_id: str, logical_id: str, resource_type: str, status: str, reason: str = "", **extra
    ) -> None:
        """A resource's progress; a *_FAILED status is a PROVISIONING_ERROR, anything else a PROGRESS_EVENT."""
        kind = "PROVISIONING_ERROR" if status.endswith("_FAILED") else "PROGRESS_EVENT"
        fields = {"LogicalResourceId": logical_id, "ResourceType": resource_type, "ResourceStatus": status}
        self._add(operation_id, kind, fields, reason, extra)

    def validation_errors(self, operation_id: str, findings: Iterable[Finding]) -> None:
        """One VALIDATION_ERROR per pre-deployment validation finding."""
        for finding in findings:
            fields = {
                "LogicalResourceId": finding.logical_id,
                "ResourceType": finding.resource_type,
                "ValidationName": finding.validation_name,
                "ValidationStatus": "FAILED",
                "ValidationStatusReason": finding.status_reason,
                "ValidationFailureMode": finding.failure_mode,
                "ValidationPath": finding.path,
            }
            if finding.physical_id:
                fields["PhysicalResourceId"] = finding.physical_id
            self._add(operation_id, "VALIDATION_ERROR", fields, "", {})

    def _add(self, operation_id: str, kind: str, fields: dict, reason: str, extra: dict) -> None:
        event = {"EventId": str(uuid.uuid4()), "EventType": kind, "Timestamp": datetime.now(UTC), **fields}
        if reason:
            event["ResourceStatusReason"] = reason
        event.update({key: value for key, value in extra.items() if value is not None})
        with self._lock:
            self._operations[operation_id].events.append(event)

    def operation_ids(self, *, stack_id: str | None = None, change_set_id: str | None = None) -> list[str]:
        """The operations of a stack, or those of one change set (its creation and its execution), oldest first."""
        with self._lock:
            return [
                op.operation_id
                for op in self._operations.values()
                if (stack_id is None or op.stack_id == stack_id)
                and (change_set_id is None or op.change_set_id == change_set_id)
            ]

    def link_change_set(self, operation_id: str, change_set_id: str) -> None:
        """Mark an execution operation as belonging to the change set it executes."""
        with self._lock:
            self._operations[operation_id].change_set_id = change_set_id

    def describe(
        self,
        *,
        stack_id: str | None = None,
        change_set_id: str | None = None,
        operation_id: str | None = None,
        failed_only: bool = False,
        next_token: str | None = None,
    ) -> dict:
        """DescribeEvents' answer: {"OperationEvents": [...], "NextToken"?}, newest first."""
        ids = [operation_id] if operation_id else self.operation_ids(stack_id=stack_id, change_set_id=change_set_id)
        with self._lock:
            events = [
                _with_operation(event, self._operations[op_id])
                for op_id in ids
                if op_id in self._operations
                for event in self._operations[op_id].events
            ]
        if failed_only:
            events = [event for event in events if _failed(event)]
        # Newest first; events recorded within one clock tick keep their recorded order, reversed.
        events = [
            event for _, event in sorted(enumerate(events), key=lambda p: (p[1]["Timestamp"], p[0]), reverse=True)
        ]
        start = int(next_token or 0)
        page = {"OperationEvents": events[start : start + PAGE_SIZE]}
        if start + PAGE_SIZE < len(events):
            page["NextToken"] = str(start + PAGE_SIZE)
        return page


def _with_operation(event: dict, operation: _Operation) -> dict:
    shown = {
        **event,
        "StackId": operation.stack_id,
        "OperationId": operation.operation_id,
        "OperationType": operation.operation_type,
        "OperationStatus": operation.status,
        "StartTime": operation.start,
    }
    if operation.end is not None:
        shown["EndTime"] = operation.end
    return shown


def _failed(event: dict) -> bool:
    return event["EventType"] in _FAILED_TYPES or str(event.get("ResourceStatus", "")).endswith("_FAILED")
