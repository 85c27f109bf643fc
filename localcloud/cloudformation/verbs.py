"""The CloudFormation actions that change something: stacks, change sets and their execution.

AWS behaviour:
- CreateStack, UpdateStack, ExecuteChangeSet and DeleteStack return at once; the operation runs on its own thread
  and DescribeStacks / DescribeStackEvents show it progressing.
- A stack in ``*_IN_PROGRESS`` (other than REVIEW_IN_PROGRESS) refuses UpdateStack, CreateChangeSet and
  ExecuteChangeSet with ValidationError "Stack:<arn> is in <STATUS> state and can not be updated.", and
  DeleteStack with "Stack [<name>] cannot be deleted while in status <STATUS>"; so do stacks in
  ROLLBACK_COMPLETE/ROLLBACK_FAILED/DELETE_FAILED/REVIEW_IN_PROGRESS for updates (they can only be deleted).
- UpdateStack that changes nothing: "No updates are to be performed." A change set that changes nothing ends
  FAILED ("The submitted information didn't contain changes. ...") with ExecutionStatus UNAVAILABLE.
- ChangeSetType CREATE makes a REVIEW_IN_PROGRESS stack (or reuses one still in review); UPDATE (the default)
  needs an existing stack. Once the stack has been updated (a change set executed, or UpdateStack), its other
  change sets are OBSOLETE (DescribeChangeSet API reference, ExecutionStatus: "in an OBSOLETE state because the
  stack was already updated") and ListChangeSets no longer lists them (ExecuteChangeSet: CloudFormation "deletes
  all other change sets"); while the update runs, executing them is refused as busy.
- DeleteStack of a stack that does not exist succeeds; termination protection refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localcloud.cloudformation import changes, outputs, prepare
from localcloud.cloudformation.errors import AlreadyExists, InvalidChangeSetStatus, ValidationError
from localcloud.cloudformation.execute import Deployment, Run, start
from localcloud.cloudformation.operations import create, delete, update
from localcloud.cloudformation.stacks import ChangeSet, Operation, Region, Stack, now

NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."
NOT_UPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "REVIEW_IN_PROGRESS", "DELETE_FAILED", "CREATE_FAILED")


@dataclass
class Call:
    """One API request as the engine sees it."""

    region: Region
    params: dict[str, Any]
    endpoint: str


def check_updatable(stack: Stack) -> None:
    if stack.status in NOT_UPDATABLE or stack.busy or stack.deleted:
        raise ValidationError(f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")


def _launch(
    call: Call, stack: Stack, action: str, work: Any, change_set: ChangeSet | None = None, inline: bool = False
) -> Operation:
    run = Run(call.region, stack, call.endpoint)
    operation = Operation(action, stack.stack_id, change_set.change_set_id if change_set else None)

    def done(succeeded: bool) -> None:
        if change_set is not None:
            change_set.execution_status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
        if action != "DELETE":  # the stack was updated: change sets made against what it was are obsolete
            _make_obsolete(call.region, stack, change_set)

    start(run, operation, lambda: work(run), done)
    if inline and operation.thread is not None:
        operation.thread.join()
    return operation


def _new_stack(call: Call, name: str) -> Stack:
    prepare.check_name(name)
    live = call.region.live(name)
    if live is not None:
        raise AlreadyExists(f"Stack [{name}] already exists")
    stack = Stack(call.region.arn("stack", name), name, call.region.account_id, call.region.region)
    return stack


def _options(stack: Stack, params: dict[str, Any]) -> None:
    stack.notification_arns = list(params.get("NotificationARNs") or stack.notification_arns)
    stack.timeout_minutes = params.get("TimeoutInMinutes") or stack.timeout_minutes


def create_stack(call: Call) -> dict[str, Any]:
    params = call.params
    with call.region.lock:
        stack = _new_stack(call, params["StackName"])
        wanted = prepare.deployment(call.region, params, None)
        _refuse_on_findings(call, stack, wanted)
        wanted.tags = wanted.tags or []
        on_failure = params.get("OnFailure") or ("DO_NOTHING" if params.get("DisableRollback") else "ROLLBACK")
        wanted.on_failure = on_failure
        stack.disable_rollback = on_failure == "DO_NOTHING"
        stack.termination_protection = bool(params.get("EnableTerminationProtection"))
        _options(stack, params)
        stack.status = "CREATE_IN_PROGRESS"
        call.region.stacks[stack.stack_id] = stack
        operation = _launch(call, stack, "CREATE", lambda run: create(run, wanted))
    return {"StackId": stack.stack_id, "OperationId": operation.operation_id}


def update_stack(call: Call) -> dict[str, Any]:
    with call.region.lock:
        stack = call.region.stack(call.params["StackName"])
        check_updatable(stack)
        wanted = prepare.deployment(call.region, call.params, stack)
        if prepare.is_noop(stack, wanted):
            raise ValidationError("No updates are to be performed.")
        _refuse_on_findings(call, stack, wanted)
        _options(stack, call.params)
        stack.status = "UPDATE_IN_PROGRESS"
        operation = _launch(call, stack, "UPDATE", lambda run: update(run, wanted))
    return {"StackId": stack.stack_id, "OperationId": operation.operation_id}


def delete_stack(call: Call) -> dict[str, Any]:
    with call.region.lock:
        stack = call.region.live(call.params["StackName"])
        if stack is None or stack.deleted or stack.status == "DELETE_IN_PROGRESS":
            return {}  # DeleteStack on a stack that does not exist (or is going) succeeds, as in AWS
        if stack.termination_protection:
            raise ValidationError(f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
        if stack.busy:
            raise ValidationError(f"Stack [{stack.name}] cannot be deleted while in status {stack.status}")
        stack.status = "DELETE_IN_PROGRESS"
        for change_set in [c for c in call.region.change_sets.values() if c.stack_id == stack.stack_id]:
            del call.region.change_sets[change_set.change_set_id]
        # A stack without resources (one still in review) has nothing to wait for: it is gone when this returns.
        _launch(call, stack, "DELETE", delete, inline=not stack.resources)
    return {}


# -- change sets -------------------------------------------------------------------------------------------
def _review_stack(call: Call, name: str, change_set_name: str) -> tuple[Stack, bool]:
    existing = call.region.live(name)
    if existing is not None:
        if existing.status == "REVIEW_IN_PROGRESS":
            return existing, False
        raise ValidationError(
            f"Stack [{name}] already exists and cannot be created again with the changeSet [{change_set_name}]."
        )
    return _new_stack(call, name), True


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
        if kind == "CREATE":
            stack, new = _review_stack(call, params["StackName"], name)
        else:
            stack, new = call.region.stack(params["StackName"]), False
            check_updatable(stack)
        wanted = prepare.deployment(call.region, params, None if new or stack.status == "REVIEW_IN_PROGRESS" else stack)
        found = _findings(call, wanted, stack)
        change_set = ChangeSet(
            call.region.arn("changeSet", name), name, stack.stack_id, stack.name, kind, wanted.template_body,
            wanted.template, wanted.parameters, wanted.tags, params.get("Description"), wanted.capabilities,
            list(params.get("NotificationARNs") or []), wanted.role_arn, params.get("OnStackFailure"),
        )  # fmt: skip
        change_set.changes, change_set.findings = _plan(call, stack, wanted), found
        if params.get("DeploymentMode") == "REVERT_DRIFT" and stack.resources:
            change_set.revert_drift = _drifted(call, stack)
            change_set.changes += _drift_reverts(change_set.changes, change_set.revert_drift, stack)
        _settle_change_set(change_set, stack, wanted)
        if new:
            _options(stack, params)
            call.region.stacks[stack.stack_id] = stack
            stack.set_status("REVIEW_IN_PROGRESS", "User Initiated")
        call.region.change_sets[change_set.change_set_id] = change_set
    return {"Id": change_set.change_set_id, "StackId": stack.stack_id}


def _drifted(call: Call, stack: Stack) -> dict[str, list[str]]:
    """Each deployed resource whose live properties differ from what the stack deployed, with those properties.

    AWS behaviour (CreateChangeSet ``DeploymentMode=REVERT_DRIFT``, "drift-aware change sets"): the change set
    compares the template with the resources' actual state, so a resource changed out of band is modified back
    to the template's values even when the template itself did not change.
    """
    from localcloud.cloudformation import drift, self_clients

    clients = self_clients.factory(call.endpoint, call.region.region, call.region.account_id)
    found: dict[str, list[str]] = {}
    for lid, resource in stack.resources.items():
        deployed = drift.DeployedResource(lid, resource.resource_type, resource.physical_id, resource.properties)
        result = drift.check(stack.stack_id, deployed, clients)
        if result and result.get("StackResourceDriftStatus") == "MODIFIED":
            paths = [d["PropertyPath"] for d in result.get("PropertyDifferences", [])]
            found[lid] = sorted({path.split("/")[1] for path in paths if path.count("/") >= 1})
    return found


def _drift_reverts(
    listed: list[changes.ResourceChange], drifted: dict[str, list[str]], stack: Stack
) -> list[changes.ResourceChange]:
    """A Modify for each drifted resource the template diff did not already list."""
    already = {change.logical_id for change in listed}
    return [
        changes.ResourceChange(
            "Modify",
            lid,
            stack.resources[lid].resource_type,
            stack.resources[lid].physical_id,
            replacement="False",
            details=[changes.Detail(name, "Never", "Static", "DirectModification") for name in names],
        )
        for lid, names in drifted.items()
        if lid not in already
    ]


def _settle_change_set(change_set: ChangeSet, stack: Stack, wanted: Deployment) -> None:
    """CREATE_COMPLETE and AVAILABLE, or FAILED with the reason: validation findings, or nothing to change."""
    refused = prepare.refusal(change_set.findings)
    empty = change_set.change_set_type == "UPDATE" and not change_set.changes and prepare.is_noop(stack, wanted)
    if refused or empty:
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = refused or NO_CHANGES
    else:
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"


def _findings(call: Call, wanted: Deployment, stack: Stack) -> list[Any]:
    """Pre-deployment validation's findings, or none when the request sets DisableValidation."""
    return [] if call.params.get("DisableValidation") else prepare.findings(call.region, wanted, stack)


def _refuse_on_findings(call: Call, stack: Stack, wanted: Deployment) -> None:
    stack.findings = _findings(call, wanted, stack)
    refused = prepare.refusal(stack.findings)
    if refused:
        raise ValidationError(refused)


def _make_obsolete(region: Region, stack: Stack, executed: ChangeSet | None) -> None:
    for other in region.change_sets.values():
        if other.stack_id == stack.stack_id and other is not executed and other.execution_status == "AVAILABLE":
            other.execution_status = "OBSOLETE"


def execute_change_set(call: Call) -> dict[str, Any]:
    with call.region.lock:
        change_set = call.region.change_set(call.params["ChangeSetName"], call.params.get("StackName"))
        if change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution status of "
                f"[{change_set.execution_status}]"
            )
        stack = call.region.stack(change_set.stack_id)
        wanted = Deployment(
            change_set.template, change_set.template_body, change_set.parameters, change_set.tags,
            change_set.on_stack_failure or "ROLLBACK", change_set, change_set.role_arn, change_set.capabilities,
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
        _launch(call, stack, change_set.change_set_type, work, change_set)
    return {}


def delete_change_set(call: Call) -> dict[str, Any]:
    with call.region.lock:
        change_set = call.region.change_set(call.params["ChangeSetName"], call.params.get("StackName"))
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatus(f"Cannot delete ChangeSet in status {change_set.execution_status}")
        del call.region.change_sets[change_set.change_set_id]
    return {}


def update_termination_protection(call: Call) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    stack.termination_protection = bool(call.params["EnableTerminationProtection"])
    return {"StackId": stack.stack_id}


def continue_update_rollback(call: Call) -> dict[str, Any]:
    with call.region.lock:
        stack = call.region.stack(call.params["StackName"])
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise ValidationError(
                f"Stack:{stack.stack_id} is in {stack.status} state and can not continue update rollback."
            )
        stack.set_status("UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
        stack.set_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        stack.set_status("UPDATE_ROLLBACK_COMPLETE")
        stack.updated = now()
    return {}
