"""The change-set actions: CreateChangeSet (computed off the request thread), ExecuteChangeSet, DeleteChangeSet.

AWS behaviour:
- CreateChangeSet answers at once with the change set's id; the change set is CREATE_PENDING, then
  CREATE_IN_PROGRESS while CloudFormation computes it, then CREATE_COMPLETE (ExecutionStatus AVAILABLE) or FAILED
  with a StatusReason (DescribeChangeSet API reference, Status: "such as CREATE_PENDING, CREATE_IN_PROGRESS,
  CREATE_COMPLETE, or FAILED"; ExecutionStatus: "UNAVAILABLE state because CloudFormation is still creating it").
  Until then ExecuteChangeSet is refused with InvalidChangeSetStatus. A template or parameter that cannot be read
  is refused by the request itself (ValidationError), before any change set exists.
- A change set that changes nothing ends FAILED ("The submitted information didn't contain changes. ...") with
  ExecutionStatus UNAVAILABLE; so does one that pre-deployment validation refuses, with that reason.
- ChangeSetType CREATE makes a REVIEW_IN_PROGRESS stack (or reuses one still in review); UPDATE (the default)
  needs an existing stack. Once the stack has been updated its other change sets are OBSOLETE, and ListChangeSets
  no longer lists them (ExecuteChangeSet: CloudFormation "deletes all other change sets"); while the update runs,
  executing them is refused as busy.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from moto.core.exceptions import ServiceException

from localcloud.cloudformation import changes, drift_changes, latency, outputs, prepare
from localcloud.cloudformation.errors import InvalidChangeSetStatus, ValidationError
from localcloud.cloudformation.execute import Deployment
from localcloud.cloudformation.operations import create, update
from localcloud.cloudformation.stacks import ChangeSet, Operation, Stack, change_set_operation_id
from localcloud.cloudformation.verbs import Call, apply_options, check_updatable, findings_for, launch, new_stack

log = logging.getLogger("localcloud.cloudformation")
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


def _review_stack(call: Call, name: str, change_set_name: str) -> tuple[Stack, bool]:
    existing = call.region.live(name)
    if existing is not None:
        if existing.status == "REVIEW_IN_PROGRESS":
            return existing, False
        raise ValidationError(
            f"Stack [{name}] already exists and cannot be created again with the changeSet [{change_set_name}]."
        )
    return new_stack(call, name), True


def _plan(call: Call, stack: Stack, wanted: Deployment) -> list[changes.ResourceChange]:
    deployed = {
        lid: changes.Deployed(r.resource_type, r.body, r.properties, r.physical_id)
        for lid, r in stack.resources.items()
    }
    ctx = outputs.context(call.region, stack, wanted.template, wanted.parameters)
    active = {
        lid
        for lid, body in wanted.template["Resources"].items()
        if not body.get("Condition") or ctx.conditions.get(body["Condition"])
    }
    old = stack.parameters if stack.resources else {}
    changed = {k for k in set(old) | set(wanted.parameters) if old.get(k) != wanted.parameters.get(k)}
    plan = changes.Plan(
        deployed=deployed,
        resources=wanted.template["Resources"],
        active=active,
        changed_parameters=changed,
        context_for=lambda unknown: outputs.context(call.region, stack, wanted.template, wanted.parameters, unknown),
    )
    return changes.diff(plan)


def create_change_set(call: Call) -> dict[str, Any]:
    params = call.params
    name, kind = params["ChangeSetName"], params.get("ChangeSetType") or "UPDATE"
    prepare.check_name(name, "changeSetName")
    with call.region.lock:
        repeated = _retried(call, name)
        if repeated is not None:  # a retry of the request that made it (API reference, ClientToken)
            return {"Id": repeated.change_set_id, "StackId": repeated.stack_id}
        if kind == "CREATE":
            stack, new = _review_stack(call, params["StackName"], name)
        else:
            stack, new = call.region.stack(params["StackName"]), False
            check_updatable(stack)
        wanted = prepare.deployment(call.region, params, None if new or stack.status == "REVIEW_IN_PROGRESS" else stack)
        change_set = ChangeSet(
            call.region.arn("changeSet", name), name, stack.stack_id, stack.name, kind, wanted.template_body,
            wanted.template, wanted.parameters, wanted.tags, params.get("Description"), wanted.capabilities,
            list(params.get("NotificationARNs") or []), wanted.role_arn, params.get("OnStackFailure"),
        )  # fmt: skip
        change_set.client_token = params.get("ClientToken")
        creating = _creation(stack, change_set)
        if new:
            apply_options(stack, params)
            call.region.stacks[stack.stack_id] = stack
            stack.set_status("REVIEW_IN_PROGRESS", "User Initiated")
        call.region.change_sets[change_set.change_set_id] = change_set
    work = (call, stack, change_set, wanted, creating)
    worker = threading.Thread(target=_compute, args=work, name=f"cfn-cs-{name}")
    worker.daemon = True
    worker.start()
    return {"Id": change_set.change_set_id, "StackId": stack.stack_id}


def _retried(call: Call, name: str) -> ChangeSet | None:
    token, stack_name = call.params.get("ClientToken"), call.params["StackName"]
    if not token:
        return None
    for change_set in call.region.change_sets.values():
        if change_set.name == name and stack_name in (change_set.stack_name, change_set.stack_id):
            return change_set if change_set.client_token == token else None
    return None


def _creation(stack: Stack, change_set: ChangeSet) -> Operation:
    """Creating a change set is an operation of its own (DescribeEvents API reference: operations include "change
    set creation"; OperationType CREATE_CHANGESET), so it is the stack's latest in LastOperations until another
    operation follows. No recording shows LastOperations after CreateChangeSet: this follows the model."""
    operation_id = change_set_operation_id(change_set.change_set_id)
    operation = Operation("CREATE_CHANGESET", stack.stack_id, change_set.change_set_id, operation_id)
    stack.operations.append(operation)
    return operation


def _compute(call: Call, stack: Stack, change_set: ChangeSet, wanted: Deployment, creating: Operation) -> None:
    """CREATE_IN_PROGRESS for the profile's change-set time, then the changes, findings and final status."""
    try:
        _compute_changes(call, stack, change_set, wanted)
    finally:
        creating.finish(change_set.status == "CREATE_COMPLETE")


def _compute_changes(call: Call, stack: Stack, change_set: ChangeSet, wanted: Deployment) -> None:
    change_set.status = "CREATE_IN_PROGRESS"
    latency.current().pause_change_set()
    try:
        with call.region.lock:
            found = findings_for(call, wanted, stack)
            listed = _plan(call, stack, wanted)
            if not call.params.get("DisableValidation"):
                found += prepare.change_set_warnings(call.region, stack, listed, wanted.template)
            if call.params.get("DeploymentMode") == "REVERT_DRIFT" and stack.resources:
                results = drift_changes.check_all(call.endpoint, stack)
                change_set.revert_drift = drift_changes.drifted_properties(results)
                listed += drift_changes.reverts(listed, results, stack)
                drift_changes.annotate(listed, results, stack)
            change_set.changes, change_set.findings = listed, found
            _settle_change_set(change_set, stack, wanted)
    except ServiceException as exc:  # a reference or value the template cannot resolve: the change set fails
        change_set.status, change_set.status_reason = "FAILED", exc.message
    except Exception as exc:  # a bug must not leave the change set CREATE_IN_PROGRESS forever
        log.exception("CloudFormation change set %s failed unexpectedly", change_set.name)
        change_set.status, change_set.status_reason = "FAILED", f"Internal error in the local cloud: {exc}"


def _settle_change_set(change_set: ChangeSet, stack: Stack, wanted: Deployment) -> None:
    """CREATE_COMPLETE and AVAILABLE, or FAILED with the reason: validation findings, or nothing to change."""
    refused = prepare.refusal(change_set.findings)
    empty = change_set.change_set_type == "UPDATE" and not change_set.changes and prepare.is_noop(stack, wanted)
    if refused or empty:
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = refused or NO_CHANGES
    else:
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"


def execute_change_set(call: Call) -> dict[str, Any]:
    with call.region.lock:
        change_set = call.region.change_set(call.params["ChangeSetName"], call.params.get("StackName"))
        stack = call.region.stack(change_set.stack_id)
        token = call.params.get("ClientRequestToken")
        if stack.retried(change_set.change_set_type, token, change_set.change_set_id) is not None:
            return {}  # a retry of the request that executed it (API reference, ClientRequestToken)
        if change_set.execution_status != "AVAILABLE":
            # A FAILED change set is refused for its status (LocalStack's recording, test_empty_changeset).
            failed = change_set.status == "FAILED"
            which, value = ("status", "FAILED") if failed else ("execution status", change_set.execution_status)
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current {which} of [{value}]"
            )
        wanted = Deployment(
            change_set.template, change_set.template_body, change_set.parameters, change_set.tags,
            change_set.on_stack_failure or "ROLLBACK", change_set, change_set.role_arn, change_set.capabilities,
            stack.policy,
        )  # fmt: skip
        if change_set.change_set_type == "CREATE":
            wanted.tags = wanted.tags or []
            stack.disable_rollback = wanted.on_failure == "DO_NOTHING"
            stack.status, work = "CREATE_IN_PROGRESS", (lambda run: create(run, wanted))
        else:
            check_updatable(stack)
            stack.status, work = "UPDATE_IN_PROGRESS", (lambda run: update(run, wanted))
        stack.change_set_id = change_set.change_set_id
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        launch(call, stack, change_set.change_set_type, work, change_set)
    return {}


def delete_change_set(call: Call) -> dict[str, Any]:
    with call.region.lock:
        change_set = call.region.change_set(call.params["ChangeSetName"], call.params.get("StackName"))
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatus(f"Cannot delete ChangeSet in status {change_set.execution_status}")
        del call.region.change_sets[change_set.change_set_id]
    return {}
