"""Create and delete a stack's resources as CloudFormation does: in dependency order, one event per step, and a
failed create rolled back.

AWS behaviour: CreateStack (or executing a CREATE change set) creates each resource after its dependencies,
recording ``CREATE_IN_PROGRESS`` / ``CREATE_COMPLETE`` / ``CREATE_FAILED`` (with the reason) per resource. One
failing resource fails the stack: it goes ``ROLLBACK_IN_PROGRESS``, deletes what it created (newest first) and
ends ``ROLLBACK_COMPLETE``; it is never ``CREATE_COMPLETE``. (An unknown resource type is refused before anything
is created, by ``cfn_template_types``; one that still reaches a deploy fails its resource.)
DeleteStack deletes in reverse dependency order with ``DELETE_*`` events, honours ``DeletionPolicy: Retain``,
refuses while termination protection is on, and a stack whose resources could not all be deleted stays
``DELETE_FAILED``: the resource that failed keeps its place in the stack, and so does everything it depends on
(those are never attempted); a later DeleteStack retries them.

moto gap: moto creates resources lazily, records no resource events, swallows an unknown type (with a warning)
and ends ``CREATE_COMPLETE`` even when a resource raised, and ignores termination protection.

Patches: ``Stack.create_resources``, ``Stack.delete``, ``CloudFormationBackend.create_stack`` and
``CloudFormationBackend.delete_stack`` (moto.cloudformation.models). Resources are still built and deleted by
moto's own ``parsing.parse_and_create_resource`` and ``ResourceMap._delete_resource``.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError

from localcloud.fixes.cfn_order import creation_order, dependencies
from localcloud.fixes.cfn_stack_events import resource_event, stack_event


class ResourceFailed(Exception):
    """One resource could not be created, updated or deleted; ``reason`` is what its event says."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.reason = reason


def failure_reason(exc: BaseException) -> str:
    """The human message of an exception raised by a moto backend (their shapes vary)."""
    message = getattr(exc, "message", None) or getattr(exc, "description", None)
    if message:
        return str(message)
    if isinstance(exc, ValueError) and len(exc.args) == 2:
        return str(exc.args[1])  # moto's Lambda raises ValueError(code, message)
    if isinstance(exc, KeyError):
        return f"Property or reference {exc} is missing or invalid"
    return str(exc) or type(exc).__name__


def applied(stack: Any) -> dict[str, dict[str, Any]]:
    """The resolved template of each resource as last applied (what updates and rollbacks compare against)."""
    if not hasattr(stack, "lc_applied"):
        stack.lc_applied = {}
    return stack.lc_applied


def resolve(rmap: Any, body: dict[str, Any]) -> dict[str, Any]:
    """A resource's template with every intrinsic function resolved against the stack's current state."""
    body = copy.deepcopy(body)
    body.setdefault("Properties", {})
    return parsing.clean_json(body, rmap)


def condition_holds(rmap: Any, body: dict[str, Any]) -> bool:
    condition = body.get("Condition")
    return not condition or bool(rmap.lazy_condition_map[condition])


def physical_id(resource: Any) -> str:
    return str(getattr(resource, "physical_resource_id", "") or "")


def _require_supported(resource_type: str) -> None:
    if resource_type in parsing.NULL_MODELS or resource_type.startswith("Custom::"):
        return
    if parsing.resource_class_from_type(resource_type) is None:
        raise ValidationError(message=f"Resource type {resource_type} is not supported by the local cloud")


def create_resource(stack: Any, logical_id: str) -> bool:
    """Create one resource with its events; returns False when its Condition leaves it out."""
    rmap = stack.resource_map
    body = rmap._resource_json_map[logical_id]
    if not condition_holds(rmap, body):
        return False
    rtype = body["Type"]
    resource_event(stack, logical_id, rtype, "CREATE_IN_PROGRESS")
    try:
        _require_supported(rtype)
        resolved = resolve(rmap, body)
        resource = parsing.parse_and_create_resource(logical_id, body, rmap, stack.account_id, stack.region_name)
    except Exception as exc:  # any backend error is this resource's failure, as in CloudFormation
        reason = failure_reason(exc)
        resource_event(stack, logical_id, rtype, "CREATE_FAILED", reason=reason)
        raise ResourceFailed(logical_id, reason) from exc
    rmap._parsed_resources[logical_id] = resource
    applied(stack)[logical_id] = resolved
    physical = physical_id(resource)
    resource_event(stack, logical_id, rtype, "CREATE_IN_PROGRESS", physical, "Resource creation Initiated")
    resource_event(stack, logical_id, rtype, "CREATE_COMPLETE", physical)
    return True


def delete_resource(stack: Any, logical_id: str, resource: Any, body: dict[str, Any]) -> str | None:
    """Delete one resource with its events; returns the failure reason, or None."""
    rtype = body["Type"]
    physical = physical_id(resource)
    if body.get("DeletionPolicy") == "Retain":
        resource_event(stack, logical_id, rtype, "DELETE_SKIPPED", physical)
        return None
    resource_event(stack, logical_id, rtype, "DELETE_IN_PROGRESS", physical)
    try:
        if resource is not None:
            stack.resource_map._delete_resource(resource, body)
    except Exception as exc:  # reported on the resource; the stack decides what that means
        reason = failure_reason(exc)
        resource_event(stack, logical_id, rtype, "DELETE_FAILED", physical, reason)
        return reason
    resource_event(stack, logical_id, rtype, "DELETE_COMPLETE", physical)
    return None


def delete_resources(stack: Any, logical_ids: list[str], bodies: dict[str, Any]) -> list[str]:
    """Delete the given resources (already in deletion order); returns the ids that failed."""
    failed = []
    parsed = stack.resource_map._parsed_resources
    for logical_id in logical_ids:
        if delete_resource(stack, logical_id, parsed.get(logical_id), bodies[logical_id]):
            failed.append(logical_id)
        else:
            parsed.pop(logical_id, None)
            applied(stack).pop(logical_id, None)
    return failed


def _forget_resources(stack: Any) -> None:
    # ResourceMap is lazy: looking up a template resource that is not there would create it.
    stack.resource_map._resource_json_map = {}
    stack.output_map = parsing.OutputMap(stack.resource_map, {}, stack.stack_id)


def create_resources(self: Any) -> None:
    """Replacement for ``Stack.create_resources``."""
    rmap = self.resource_map
    rmap.tags.update({"aws:cloudformation:stack-name": self.name, "aws:cloudformation:stack-id": self.stack_id})
    self.status = "CREATE_IN_PROGRESS"
    self.description = self.template_dict.get("Description")
    created: list[str] = []
    try:
        for logical_id in creation_order(rmap._resource_json_map):
            if create_resource(self, logical_id):
                created.append(logical_id)
    except ResourceFailed as failure:
        _roll_back_create(self, created, failure)
        return
    stack_event(self, "CREATE_COMPLETE")


def _roll_back_create(stack: Any, created: list[str], failure: ResourceFailed) -> None:
    reason = f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user."
    stack_event(stack, "ROLLBACK_IN_PROGRESS", reason)
    bodies = stack.resource_map._resource_json_map
    # Rollback deletes even resources marked Retain: they were never part of a completed stack.
    rollback_bodies = {lid: {**bodies[lid], "DeletionPolicy": "Delete"} for lid in created}
    failed = delete_resources(stack, list(reversed(created)), rollback_bodies)
    _forget_resources(stack)
    stack_event(stack, "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE")


def delete(self: Any) -> None:
    """Replacement for ``Stack.delete``."""
    stack_event(self, "DELETE_IN_PROGRESS", "User Initiated")
    bodies = self.resource_map._resource_json_map
    order = [lid for lid in reversed(creation_order(bodies)) if lid in self.resource_map._parsed_resources]
    failed: list[str] = []
    kept: set[str] = set()  # failed, or needed by something that failed
    for logical_id in order:
        if any(logical_id in dependencies(bodies, other) for other in kept):
            kept.add(logical_id)
            continue
        if delete_resources(self, [logical_id], bodies):
            failed.append(logical_id)
            kept.add(logical_id)
    if failed:
        stack_event(self, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        return
    _forget_resources(self)
    stack_event(self, "DELETE_COMPLETE")


def register_exports(backend: Any, stack: Any) -> None:
    """Exports exist once the stack's resources do (moto computed them before creating anything)."""
    backend._validate_export_uniqueness(stack)
    for export in stack.exports:
        backend.exports[export.name] = export


def create_stack(self: Any, name: str, template: str, parameters: dict[str, Any], **kwargs: Any) -> Any:
    """Replacement for ``CloudFormationBackend.create_stack``."""
    if any(stack.name == name for stack in self.stacks.values()):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    stack_id = cfn_models.generate_stack_id(name, self.region_name, self.account_id)
    stack = cfn_models.Stack(
        stack_id=stack_id,
        name=name,
        template=template,
        parameters=parameters,
        account_id=self.account_id,
        region_name=self.region_name,
        cross_stack_resources=self.exports,
        **kwargs,
    )
    self.stacks[stack_id] = stack
    stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
    stack.create_resources()
    if stack.status == "CREATE_COMPLETE":
        register_exports(self, stack)
    return stack


def find_stack(backend: Any, name_or_id: str) -> Any | None:
    """A live (not deleted) stack by name or id."""
    if name_or_id in backend.stacks:
        return backend.stacks[name_or_id]
    return next((s for s in backend.stacks.values() if s.name == name_or_id), None)


def delete_stack(self: Any, name_or_stack_id: str) -> None:
    """Replacement for ``CloudFormationBackend.delete_stack``."""
    stack = find_stack(self, name_or_stack_id)
    if stack is None:
        return  # DeleteStack on a stack that does not exist succeeds, as in AWS
    if stack.enable_termination_protection:
        raise ValidationError(message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled")
    export_names = [name for name, export in self.exports.items() if export.exporting_stack_id == stack.stack_id]
    stack.delete()
    if stack.status != "DELETE_COMPLETE":
        return
    self.stacks.pop(stack.stack_id, None)
    self.deleted_stacks[stack.stack_id] = stack
    for export_name in export_names:
        self.exports.pop(export_name, None)


def apply() -> None:
    cfn_models.Stack.create_resources = create_resources
    cfn_models.Stack.delete = delete
    cfn_models.CloudFormationBackend.create_stack = create_stack
    cfn_models.CloudFormationBackend.delete_stack = delete_stack
