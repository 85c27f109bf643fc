"""The engine's state in the CloudFormation API's shapes (the query serializer turns these dicts into XML)."""

from __future__ import annotations

import json
from typing import Any

from localcloud.cloudformation import drift_api
from localcloud.cloudformation import parameters as params_module
from localcloud.cloudformation.stacks import ChangeSet, Event, Resource, Stack
from localcloud.cloudformation.template import as_text


def _present(found: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in found.items() if v is not None}


def _status(s: Stack) -> dict[str, Any]:
    """What a Stack and a StackSummary share (botocore's model: both have these members)."""
    return {
        "StackId": s.stack_id,
        "StackName": s.name,
        "CreationTime": s.created,
        "LastUpdatedTime": s.updated,
        "DeletionTime": s.deleted,
        "StackStatus": s.status,
        "StackStatusReason": s.reason,
        "DriftInformation": drift_api.stack_information(s.account_id, s.region, s.stack_id),
        "LastOperations": last_operations(s) or None,
    }


def stack(s: Stack) -> dict[str, Any]:
    return _present(
        {
            **_status(s),
            "ChangeSetId": s.change_set_id,
            "Description": s.description,
            "Parameters": params_module.described(s.template, s.parameters),
            "DisableRollback": s.disable_rollback,
            "NotificationARNs": s.notification_arns,
            "TimeoutInMinutes": s.timeout_minutes,
            "Capabilities": s.capabilities or None,
            "Outputs": s.outputs or None,
            "RoleARN": s.role_arn,
            "Tags": s.tags,
            "EnableTerminationProtection": s.termination_protection,
        }
    )


def summary(s: Stack) -> dict[str, Any]:
    return _present({**_status(s), "TemplateDescription": s.description})


OPERATION_TYPES = {
    "CREATE": "CREATE_STACK",
    "UPDATE": "UPDATE_STACK",
    "DELETE": "DELETE_STACK",
    "ROLLBACK": "ROLLBACK",
    "CONTINUE_ROLLBACK": "CONTINUE_ROLLBACK",
    "CREATE_CHANGESET": "CREATE_CHANGESET",
}


def last_operations(s: Stack) -> list[dict[str, str]]:
    """The stack's latest operation and the rollback it caused, newest first, with the OperationIds that
    DescribeEvents groups events by (User Guide, "View stack events by operation": after a failed update,
    ``[{ROLLBACK}, {UPDATE_STACK}]``)."""
    operations = list(s.operations)
    started = [i for i, op in enumerate(operations) if op.action != "ROLLBACK"]
    latest = operations[started[-1] :] if started else []
    return [{"OperationType": OPERATION_TYPES[op.action], "OperationId": op.operation_id} for op in reversed(latest)]


def event(e: Event) -> dict[str, Any]:
    return _present(
        {
            "StackId": e.stack_id,
            "EventId": e.event_id,
            "StackName": e.stack_name,
            "LogicalResourceId": e.logical_id,
            "PhysicalResourceId": e.physical_id,
            "ResourceType": e.resource_type,
            "Timestamp": e.timestamp,
            "ResourceStatus": e.status,
            "ResourceStatusReason": e.reason,
            "ResourceProperties": e.properties,
            "ClientRequestToken": e.client_request_token,
        }
    )


def resource(s: Stack, r: Resource, detail: bool = False) -> dict[str, Any]:
    found = {
        "StackName": s.name,
        "StackId": s.stack_id,
        "LogicalResourceId": r.logical_id,
        "PhysicalResourceId": r.physical_id,
        "ResourceType": r.resource_type,
        "ResourceStatus": r.status,
        "ResourceStatusReason": r.reason,
        "DriftInformation": drift_api.resource_information(s.account_id, s.region, s.stack_id, r.logical_id),
    }
    if detail:
        found["LastUpdatedTimestamp"] = r.updated
        if r.body.get("Metadata") is not None:
            found["Metadata"] = json.dumps(r.body["Metadata"])
    else:
        found["Timestamp"] = r.updated
    return _present(found)


def resource_summary(r: Resource) -> dict[str, Any]:
    return _present(
        {
            "LogicalResourceId": r.logical_id,
            "PhysicalResourceId": r.physical_id,
            "ResourceType": r.resource_type,
            "LastUpdatedTimestamp": r.updated,
            "ResourceStatus": r.status,
            "ResourceStatusReason": r.reason,
            "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
        }
    )


def change_set(c: ChangeSet) -> dict[str, Any]:
    return _present(
        {
            "ChangeSetName": c.name,
            "ChangeSetId": c.change_set_id,
            "StackId": c.stack_id,
            "StackName": c.stack_name,
            "Description": c.description,
            "Parameters": params_module.described(c.template, c.parameters),
            "CreationTime": c.created,
            "ExecutionStatus": c.execution_status,
            "Status": c.status,
            "StatusReason": c.status_reason,
            "NotificationARNs": c.notification_arns,
            "RollbackConfiguration": {},
            "Capabilities": c.capabilities or None,
            "Tags": c.tags,
            "Changes": [change.describe() for change in c.changes],
            "IncludeNestedStacks": False,
            "OnStackFailure": c.on_stack_failure,
        }
    )


def change_set_summary(c: ChangeSet) -> dict[str, Any]:
    return _present(
        {
            "StackId": c.stack_id,
            "StackName": c.stack_name,
            "ChangeSetId": c.change_set_id,
            "ChangeSetName": c.name,
            "ExecutionStatus": c.execution_status,
            "Status": c.status,
            "StatusReason": c.status_reason,
            "CreationTime": c.created,
            "Description": c.description,
            "IncludeNestedStacks": False,
        }
    )


def template_parameters(template: dict[str, Any], summary_shape: bool) -> list[dict[str, Any]]:
    """ValidateTemplate's (or, with ``summary_shape``, GetTemplateSummary's) Parameters."""
    found = []
    for name, slot in (template.get("Parameters") or {}).items():
        entry: dict[str, Any] = {"ParameterKey": name, "NoEcho": str(slot.get("NoEcho", "false")).lower() == "true"}
        if "Default" in slot:
            entry["DefaultValue"] = as_text(slot["Default"])
        if slot.get("Description"):
            entry["Description"] = slot["Description"]
        if summary_shape:
            entry["ParameterType"] = slot.get("Type", "String")
            entry["ParameterConstraints"] = {"AllowedValues": [as_text(v) for v in slot.get("AllowedValues", [])]}
        found.append(entry)
    return found
