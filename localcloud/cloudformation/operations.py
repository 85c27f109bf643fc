"""The three stack operations as the executor runs them: create (with rollback), update (with cleanup or
rollback) and delete. Each returns whether it succeeded; ``execute.start`` runs it on its own thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from localcloud.cloudformation import outputs, stack_policy
from localcloud.cloudformation.execute import (
    Cancelled,
    Deployment,
    ResourceFailed,
    Run,
    condition_holds,
    failure_reason,
    finish_outputs,
    needs_replacement,
)
from localcloud.cloudformation.stacks import Resource, now
from localcloud.cloudformation.template import creation_order, dependencies

STACK_UPDATE_CANCELLED = "Stack update cancelled"


def _adopt(run: Run, deployment: Deployment) -> None:
    stack = run.stack
    stack.template, stack.template_body, stack.parameters = (
        deployment.template,
        deployment.template_body,
        deployment.parameters,
    )
    if deployment.tags is not None:
        stack.tags = deployment.tags
    stack.role_arn = deployment.role_arn or stack.role_arn
    stack.capabilities = deployment.capabilities or stack.capabilities
    run.context = outputs.context(run.region, stack, stack.template, stack.parameters)


# -- create ------------------------------------------------------------------------------------------------
def create(run: Run, deployment: Deployment) -> bool:
    stack = run.stack
    stack.set_status("CREATE_IN_PROGRESS", "User Initiated")
    _adopt(run, deployment)
    assert run.context is not None
    resources = stack.template["Resources"]
    created: list[str] = []
    try:
        for logical_id in creation_order(resources):
            if condition_holds(run.context, resources[logical_id]):
                run.stop_if_cancelled()
                run.create(logical_id, resources[logical_id])
                created.append(logical_id)
        finish_outputs(run)
    except (ResourceFailed, Exception) as failure:
        if run.cancel.is_set():  # DeleteStack stopped the create: the delete that follows removes what was made
            return False
        return _create_failed(run, deployment, created, failure)
    stack.set_status("CREATE_COMPLETE")
    return True


def _create_failed(run: Run, deployment: Deployment, created: list[str], failure: Exception) -> bool:
    stack = run.stack
    culprit = failure.logical_id if isinstance(failure, ResourceFailed) else None
    if deployment.on_failure == "DO_NOTHING":
        stack.set_status("CREATE_FAILED", f"The following resource(s) failed to create: [{culprit}]. ")
        return False
    reason = (
        f"The following resource(s) failed to create: [{culprit}]. Rollback requested by user."
        if culprit
        else failure_reason(failure)
    )
    run.begin_rollback()
    stack.set_status("ROLLBACK_IN_PROGRESS", reason)
    # Rollback deletes even resources marked Retain: they were never part of a completed stack.
    failed = run.delete_all(list(reversed(created)), honour_retain=False)
    if failed:
        stack.set_status("ROLLBACK_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        return False
    stack.resources, stack.outputs = {}, []
    stack.set_status("ROLLBACK_COMPLETE")
    _rollback_done(run, True)
    if deployment.on_failure == "DELETE":
        delete(run)
    return False


# -- update ------------------------------------------------------------------------------------------------
@dataclass
class _Before:
    """Everything an update may change, so a rollback can put it back."""

    template: dict[str, Any]
    template_body: str
    parameters: dict[str, str]
    tags: list[dict[str, str]]
    outputs: list[dict[str, Any]]
    resources: dict[str, Resource]
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # updated resources the rollback has yet to put back


def update(run: Run, deployment: Deployment) -> bool:
    stack = run.stack
    before = _Before(
        stack.template, stack.template_body, stack.parameters, stack.tags, stack.outputs, dict(stack.resources)
    )
    stack.set_status("UPDATE_IN_PROGRESS", "User Initiated")
    stack.updated = now()
    try:
        _adopt(run, deployment)
        assert run.context is not None
        resources = stack.template["Resources"]
        drifted = set(getattr(deployment.change_set, "revert_drift", None) or ())
        _check_removals(run, before, deployment.policy)
        for logical_id in creation_order(resources):
            if condition_holds(run.context, resources[logical_id]):
                run.stop_if_cancelled()
                step = _Step(logical_id, resources[logical_id], logical_id in drifted, deployment.policy)
                _step(run, step, before)
        finish_outputs(run)
    except Exception as failure:  # a resource, an output or a reference: the update rolls back
        _roll_back(run, before, failure)
        return False
    _clean_up(run, before)
    return True


@dataclass
class _Step:
    """One resource of an update: ``revert`` updates a drifted one even when unchanged; ``policy`` may refuse."""

    logical_id: str
    body: dict[str, Any]
    revert: bool
    policy: str | None


def _refuse_by_policy(run: Run, old: Resource, action: str, policy: str | None) -> None:
    reason = stack_policy.refusal(policy, action, old.logical_id, old.resource_type)
    if reason:
        run.stack.record(old.logical_id, old.resource_type, "UPDATE_FAILED", old.physical_id, reason=reason)
        raise ResourceFailed(old.logical_id, reason)


def _check_removals(run: Run, before: _Before, policy: str | None) -> None:
    """Resources the new template drops are deleted in clean-up; the policy is asked before anything changes."""
    assert run.context is not None
    kept = {lid for lid, body in run.stack.template["Resources"].items() if condition_holds(run.context, body)}
    for logical_id, old in before.resources.items():
        if logical_id not in kept:
            _refuse_by_policy(run, old, "Update:Delete", policy)


def _step(run: Run, step: _Step, before: _Before) -> None:
    """Create, keep, replace or update one resource."""
    logical_id, body = step.logical_id, step.body
    old = before.resources.get(logical_id)
    if old is None:
        run.create(logical_id, body)
        before.added.append(logical_id)
        return
    props = run.resolve_properties(body)
    if old.resource_type == body["Type"] and old.properties == props and not step.revert:
        run.stack.resources[logical_id] = replace(old, body=body)
        return
    if needs_replacement(old, body, props):
        _refuse_by_policy(run, old, "Update:Replace", step.policy)
        before.replaced.append(logical_id)
        run.create(logical_id, body, phase="UPDATE")
        return
    _refuse_by_policy(run, old, "Update:Modify", step.policy)
    before.updated.append(logical_id)
    if run.update(old, body, props).physical_id != old.physical_id:
        before.replaced.append(logical_id)  # a new physical id is a replacement: the old resource goes in clean-up


def _clean_up(run: Run, before: _Before) -> None:
    run.stop_cancelling()  # the update is done: CancelUpdateStack comes too late
    stack = run.stack
    stack.set_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    for logical_id in reversed(before.replaced):
        run.delete(before.resources[logical_id], policy="UpdateReplacePolicy")
    active = {lid for lid, body in stack.template["Resources"].items() if condition_holds(run.context, body)}  # type: ignore[arg-type]
    removed = [lid for lid in before.resources if lid not in active]
    order = [
        lid for lid in reversed(creation_order({lid: r.body for lid, r in before.resources.items()})) if lid in removed
    ]
    for logical_id in order:
        if not run.delete(before.resources[logical_id]):
            stack.resources.pop(logical_id, None)
    stack.set_status("UPDATE_COMPLETE")


def _roll_back(run: Run, before: _Before, failure: Exception) -> None:
    stack = run.stack
    culprit = failure.logical_id if isinstance(failure, ResourceFailed) else None
    reason = f"The following resource(s) failed to update: [{culprit}]. " if culprit else failure_reason(failure)
    if run.begin_rollback() or isinstance(failure, Cancelled):
        reason = STACK_UPDATE_CANCELLED
    stack.set_status("UPDATE_ROLLBACK_IN_PROGRESS", reason)
    before.pending = list(reversed(before.updated))
    _revert(run, before, skip=[])


def continue_rollback(run: Run, skip: list[str]) -> bool:
    """ContinueUpdateRollback: revert what the failed rollback could not, skipping ``skip`` (their status becomes
    UPDATE_COMPLETE and their state stays as it is: API reference, ResourcesToSkip), then clean up."""
    before = run.stack.rollback
    assert before is not None
    run.stack.set_status("UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
    return _revert(run, before, skip)


def _revert(run: Run, before: _Before, skip: list[str]) -> bool:
    """Put back the resources the update changed; a resource whose revert fails leaves UPDATE_ROLLBACK_FAILED,
    from which ContinueUpdateRollback resumes (User Guide, "Continue rolling back an update")."""
    stack = run.stack
    failed = []
    for logical_id in before.pending:
        current, old = stack.resources[logical_id], before.resources[logical_id]
        if logical_id in skip:
            stack.resources[logical_id] = replace(current, status="UPDATE_COMPLETE")
            stack.record(logical_id, current.resource_type, "UPDATE_COMPLETE", current.physical_id)
            continue
        try:
            run.update(current, old.body, old.properties)
        except ResourceFailed as exc:
            failed.append(logical_id)
            stack.resources[logical_id] = replace(current, status="UPDATE_FAILED", reason=exc.reason)
            continue
        stack.resources[logical_id] = old
    before.pending, stack.rollback = failed, before if failed else None
    if failed:
        reason = f"The following resource(s) failed to update: [{', '.join(failed)}]. "
        stack.set_status("UPDATE_ROLLBACK_FAILED", reason)
        _rollback_done(run, False)
        return False
    _finish_rollback(run, before)
    return True


def _finish_rollback(run: Run, before: _Before) -> None:
    """The previous template, parameters and outputs again; what the update added or replaced is deleted."""
    stack = run.stack
    stack.template, stack.template_body, stack.parameters = before.template, before.template_body, before.parameters
    stack.tags, stack.outputs = before.tags, before.outputs
    stack.set_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for logical_id in reversed(before.added + before.replaced):
        new = stack.resources.get(logical_id)
        if new is not None and new is not before.resources.get(logical_id):
            run.delete(new, honour_retain=False)
        if logical_id in before.resources:
            stack.resources[logical_id] = before.resources[logical_id]
        else:
            stack.resources.pop(logical_id, None)
    stack.set_status("UPDATE_ROLLBACK_COMPLETE")
    _rollback_done(run, True)


def _rollback_done(run: Run, succeeded: bool) -> None:
    if run.stack.operation is not None:
        run.stack.operation.finish(succeeded)


# -- delete ------------------------------------------------------------------------------------------------
def delete(run: Run, retain: frozenset[str] = frozenset(), force: bool = False) -> bool:
    """Delete in reverse dependency order; what fails to delete is kept with what it depends on (DELETE_FAILED).
    Once DELETE_FAILED, DeleteStack may name resources to retain, or ask FORCE_DELETE_STACK, which retains each
    resource that fails to delete again (DeleteStack API reference: RetainResources, DeletionMode)."""
    stack = run.stack
    stack.set_status("DELETE_IN_PROGRESS", "User Initiated")
    bodies = {lid: r.body for lid, r in stack.resources.items()}
    failed: list[str] = []
    kept: set[str] = set()  # failed, or needed by something that failed
    for logical_id in reversed(creation_order(bodies)):
        if any(logical_id in dependencies(bodies, other) for other in kept):
            kept.add(logical_id)
            continue
        if run.delete(stack.resources[logical_id], keep=logical_id in retain) and not force:
            failed.append(logical_id)
            kept.add(logical_id)
        else:
            stack.resources.pop(logical_id, None)
    if failed:
        stack.set_status("DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        return False
    outputs.withdraw_exports(run.region, stack)
    stack.deleted = now()
    stack.set_status("DELETE_COMPLETE")
    return True
