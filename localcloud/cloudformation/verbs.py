"""The CloudFormation actions that change a stack: create, update, delete (change sets are in ``change_sets``).

AWS behaviour:
- CreateStack, UpdateStack, ExecuteChangeSet and DeleteStack return at once; the operation runs on its own thread
  and DescribeStacks / DescribeStackEvents show it progressing.
- A stack in ``*_IN_PROGRESS`` (other than REVIEW_IN_PROGRESS) refuses UpdateStack, CreateChangeSet and
  ExecuteChangeSet with ValidationError "Stack:<arn> is in <STATUS> state and can not be updated.", and
  DeleteStack with "Stack [<name>] cannot be deleted while in status <STATUS>", except during CREATE_IN_PROGRESS:
  then the create stops and the stack is deleted (CancelUpdateStack stops an update); so do stacks in
  ROLLBACK_COMPLETE/ROLLBACK_FAILED/DELETE_FAILED/REVIEW_IN_PROGRESS for updates (they can only be deleted), and
  UPDATE_ROLLBACK_FAILED (ContinueUpdateRollback first, or delete it).
- UpdateStack that changes nothing: "No updates are to be performed."
- Once the stack has been updated (a change set executed, or UpdateStack), its other change sets are OBSOLETE
  (DescribeChangeSet API reference, ExecutionStatus: "in an OBSOLETE state because the stack was already updated").
- DeleteStack of a stack that does not exist succeeds; termination protection refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localcloud.cloudformation import prepare, sources, stack_policy
from localcloud.cloudformation.errors import AlreadyExists, ValidationError
from localcloud.cloudformation.execute import Deployment, Run, start
from localcloud.cloudformation.operations import continue_rollback, create, delete, update
from localcloud.cloudformation.stacks import ChangeSet, Operation, Region, Stack

NOT_UPDATABLE = (
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "REVIEW_IN_PROGRESS",
    "DELETE_FAILED",
    "CREATE_FAILED",
    "UPDATE_ROLLBACK_FAILED",  # "... is in UPDATE_ROLLBACK_FAILED state and can not be updated." (org-formation#455)
)


@dataclass
class Call:
    """One API request as the engine sees it."""

    region: Region
    params: dict[str, Any]
    endpoint: str


def check_updatable(stack: Stack) -> None:
    if stack.status in NOT_UPDATABLE or stack.busy or stack.deleted:
        raise ValidationError(f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")


def launch(
    call: Call, stack: Stack, action: str, work: Any, change_set: ChangeSet | None = None, inline: bool = False
) -> Operation:
    run = Run(call.region, stack, call.endpoint)
    operation = Operation(action, stack.stack_id, change_set.change_set_id if change_set else None)
    operation.client_request_token = call.params.get("ClientRequestToken")

    def done(succeeded: bool) -> None:
        if change_set is not None:
            change_set.execution_status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
        if action != "DELETE":  # the stack was updated: change sets made against what it was are obsolete
            _make_obsolete(call.region, stack, change_set)

    start(run, operation, lambda: work(run), done)
    if inline and operation.thread is not None:
        operation.thread.join()
    return operation


def new_stack(call: Call, name: str) -> Stack:
    prepare.check_name(name)
    live = call.region.live(name)
    if live is not None:
        raise AlreadyExists(f"Stack [{name}] already exists")
    stack = Stack(call.region.arn("stack", name), name, call.region.account_id, call.region.region)
    return stack


def apply_options(stack: Stack, params: dict[str, Any]) -> None:
    stack.notification_arns = list(params.get("NotificationARNs") or stack.notification_arns)
    stack.timeout_minutes = params.get("TimeoutInMinutes") or stack.timeout_minutes


def create_stack(call: Call) -> dict[str, Any]:
    params = call.params
    with call.region.lock:
        live = call.region.live(params["StackName"])
        repeated = live.retried("CREATE", params.get("ClientRequestToken")) if live else None
        if live is not None and repeated is not None:  # a retry of the request that made the stack
            return {"StackId": live.stack_id, "OperationId": repeated.operation_id}
        stack = new_stack(call, params["StackName"])
        wanted = prepare.deployment(call.region, params, None)
        _refuse_on_findings(call, stack, wanted)
        wanted.tags = wanted.tags or []
        on_failure = params.get("OnFailure") or ("DO_NOTHING" if params.get("DisableRollback") else "ROLLBACK")
        wanted.on_failure = on_failure
        stack.disable_rollback = on_failure == "DO_NOTHING"
        stack.termination_protection = bool(params.get("EnableTerminationProtection"))
        stack.policy = _policy(call, "StackPolicyBody", "StackPolicyURL")
        apply_options(stack, params)
        stack.status = "CREATE_IN_PROGRESS"
        call.region.stacks[stack.stack_id] = stack
        operation = launch(call, stack, "CREATE", lambda run: create(run, wanted))
    return {"StackId": stack.stack_id, "OperationId": operation.operation_id}


def update_stack(call: Call) -> dict[str, Any]:
    with call.region.lock:
        stack = call.region.stack(call.params["StackName"])
        repeated = stack.retried("UPDATE", call.params.get("ClientRequestToken"))
        if repeated is not None:
            return {"StackId": stack.stack_id, "OperationId": repeated.operation_id}
        check_updatable(stack)
        wanted = prepare.deployment(call.region, call.params, stack)
        if prepare.is_noop(stack, wanted):
            raise ValidationError("No updates are to be performed.")
        _refuse_on_findings(call, stack, wanted)
        # UpdateStack API reference: a temporary policy "overrides the current policy" for this update only;
        # StackPolicyBody is the stack's policy from now on ("if you don't specify ... unchanged").
        wanted.policy = _policy(call, "StackPolicyDuringUpdateBody", "StackPolicyDuringUpdateURL") or stack.policy
        stack.policy = _policy(call, "StackPolicyBody", "StackPolicyURL") or stack.policy
        apply_options(stack, call.params)
        stack.status = "UPDATE_IN_PROGRESS"
        operation = launch(call, stack, "UPDATE", lambda run: update(run, wanted))
    return {"StackId": stack.stack_id, "OperationId": operation.operation_id}


def delete_stack(call: Call) -> dict[str, Any]:
    with call.region.lock:
        stack = call.region.live(call.params["StackName"])
        if stack is None or stack.deleted or stack.status == "DELETE_IN_PROGRESS":
            return {}  # DeleteStack on a stack that does not exist (or is going) succeeds, as in AWS
        if stack.retried("DELETE", call.params.get("ClientRequestToken")) is not None:
            return {}  # a retry of a delete that has already run
        if stack.termination_protection:
            raise ValidationError(f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
        running = stack.operation
        if stack.status == "CREATE_IN_PROGRESS" and running is not None and _delete_once_stopped(call, stack, running):
            return {}
        if stack.busy:
            raise ValidationError(f"Stack [{stack.name}] cannot be deleted while in status {stack.status}")
        retain, force = _retained(stack, call.params)
        _start_delete(call, stack, retain, force)
    return {}


def _retained(stack: Stack, params: dict[str, Any]) -> tuple[frozenset[str], bool]:
    """RetainResources and DeletionMode FORCE_DELETE_STACK, for a stack in DELETE_FAILED only. AWS's answers:
    "Invalid operation on stack [<arn>]. You can activate DeletionMode FORCE_DELETE_STACK in a delete stack
    operation only when the stack is in the DELETE_FAILED state." (awslabs/eks-perf-tests#517); "The specified
    resources to retain must be in a valid state. Do not specify resources that are in the DELETE_COMPLETE
    state." (rebuy-de/aws-nuke#270). RetainResources on another status is refused with a message in the same
    form (no recording of that answer found: only "can only be retained when ... DELETE_FAILED", aws-nuke#244)."""
    retain = frozenset(params.get("RetainResources") or ())
    force = params.get("DeletionMode") == "FORCE_DELETE_STACK"
    if stack.status != "DELETE_FAILED" and (retain or force):
        what = (
            "You can activate DeletionMode FORCE_DELETE_STACK in a delete stack operation"
            if force
            else "You can specify RetainResources"
        )
        raise ValidationError(
            f"Invalid operation on stack [{stack.stack_id}]. {what} only when the stack is in the DELETE_FAILED state."
        )
    if retain - set(stack.resources):
        raise ValidationError(
            "The specified resources to retain must be in a valid state. Do not specify resources that are in the "
            "DELETE_COMPLETE state."
        )
    return retain, force


def _start_delete(call: Call, stack: Stack, retain: frozenset[str] = frozenset(), force: bool = False) -> None:
    stack.status = "DELETE_IN_PROGRESS"
    for change_set in [c for c in call.region.change_sets.values() if c.stack_id == stack.stack_id]:
        del call.region.change_sets[change_set.change_set_id]
    # A stack without resources (one still in review) has nothing to wait for: it is gone when this returns.
    launch(call, stack, "DELETE", lambda run: delete(run, retain, force), inline=not stack.resources)


def _delete_once_stopped(call: Call, stack: Stack, running: Operation) -> bool:
    """DeleteStack during a create stops the create between resources (the one in flight ends CREATE_FAILED
    "Resource creation cancelled") and then deletes the stack with what it had made. False when the create has
    already ended (the stack is deleted the usual way)."""

    def then() -> None:
        with call.region.lock:
            _start_delete(call, stack)

    if not running.hand_over(then):
        return False
    running.cancel.set()
    return True


def cancel_update_stack(call: Call) -> dict[str, Any]:
    """CancelUpdateStack API reference: "You can cancel only stacks that are in the UPDATE_IN_PROGRESS state";
    the stack goes UPDATE_ROLLBACK_IN_PROGRESS ("Stack update cancelled") to UPDATE_ROLLBACK_COMPLETE (User
    Guide, "Cancel a stack update")."""
    with call.region.lock:
        stack = call.region.stack(call.params["StackName"])
        token = call.params.get("ClientRequestToken")
        if token and any(operation.cancel_token == token for operation in stack.operations):
            return {}  # a retry of a cancel already accepted (API reference, ClientRequestToken)
        if stack.status != "UPDATE_IN_PROGRESS" or stack.operation is None:
            raise ValidationError("CancelUpdateStack cannot be called from current stack status")
        stack.operation.cancel_token = token
        stack.operation.cancel.set()
    return {}


def _policy(call: Call, body_key: str, url_key: str) -> str | None:
    account, region = call.region.account_id, call.region.region
    return stack_policy.body_from(call.params, body_key, url_key, lambda url: sources.read_url(url, account, region))


def get_stack_policy(call: Call) -> dict[str, Any]:
    policy = call.region.stack(call.params["StackName"]).policy
    return {"StackPolicyBody": policy} if policy else {}


def set_stack_policy(call: Call) -> dict[str, Any]:
    with call.region.lock:
        stack = call.region.stack(call.params["StackName"])
        stack.policy = _policy(call, "StackPolicyBody", "StackPolicyURL")
    return {}


def findings_for(call: Call, wanted: Deployment, stack: Stack) -> list[Any]:
    """Pre-deployment validation's findings, or none when the request sets DisableValidation."""
    return [] if call.params.get("DisableValidation") else prepare.findings(call.region, wanted, stack)


def _refuse_on_findings(call: Call, stack: Stack, wanted: Deployment) -> None:
    stack.findings = findings_for(call, wanted, stack)
    refused = prepare.refusal(stack.findings)
    if refused:
        raise ValidationError(refused)


def _make_obsolete(region: Region, stack: Stack, executed: ChangeSet | None) -> None:
    for other in region.change_sets.values():
        if other.stack_id == stack.stack_id and other is not executed and other.execution_status == "AVAILABLE":
            other.execution_status = "OBSOLETE"


def update_termination_protection(call: Call) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    stack.termination_protection = bool(call.params["EnableTerminationProtection"])
    return {"StackId": stack.stack_id}


def continue_update_rollback(call: Call) -> dict[str, Any]:
    """ContinueUpdateRollback API reference: only a stack in UPDATE_ROLLBACK_FAILED; ResourcesToSkip may name only
    resources whose rollback failed. The rollback is an operation of its own (OperationType CONTINUE_ROLLBACK in
    botocore's model). Neither refusal's wording is recorded anywhere we could find: the first follows
    UpdateStack's "Stack:<arn> is in <STATUS> state and can not be updated.", the second names the resources."""
    with call.region.lock:
        stack = call.region.stack(call.params["StackName"])
        if stack.retried("CONTINUE_ROLLBACK", call.params.get("ClientRequestToken")) is not None:
            return {}
        if stack.status != "UPDATE_ROLLBACK_FAILED" or stack.rollback is None:
            raise ValidationError(
                f"Stack:{stack.stack_id} is in {stack.status} state and can not continue update rollback."
            )
        skip = list(call.params.get("ResourcesToSkip") or [])
        wrong = [logical_id for logical_id in skip if logical_id not in stack.rollback.pending]
        if wrong:
            raise ValidationError(
                f"Resources [{', '.join(wrong)}] cannot be skipped: only resources whose update rollback failed can."
            )
        stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        launch(call, stack, "CONTINUE_ROLLBACK", lambda run: continue_rollback(run, skip))
    return {}
