"""Update a stack as CloudFormation does: in place where the resource type allows it, by replacement where a
property demands it, and rolled back completely when a resource fails.

AWS behaviour: an update (UpdateStack or an UPDATE change set) adds new resources, updates changed ones in place
(a Lambda function keeps its name and ARN; only its code/configuration change), replaces a resource when a
replacement property changed (new one created first, old one deleted in the cleanup phase), and removes dropped
resources during cleanup. A failing resource gives ``UPDATE_FAILED``, then the stack goes
``UPDATE_ROLLBACK_IN_PROGRESS`` → ``UPDATE_ROLLBACK_COMPLETE`` with the previous resources, configuration, code,
template, parameters and outputs intact.

moto gap: ``ResourceMap.update`` diffs raw templates, retries failures blindly, replaces or duplicates resources
(a second Lambda function), records no resource events, has no rollback, and keeps the old Outputs.

Patches: ``moto.cloudformation.models.Stack.update``. Per-resource work goes through each model's
``update_from_cloudformation_json`` / ``parsing.parse_and_create_resource``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing

from localcloud.fixes.cfn_deploy import (
    ResourceFailed,
    applied,
    condition_holds,
    create_resource,
    delete_resources,
    failure_reason,
    physical_id,
    resolve,
)
from localcloud.fixes.cfn_order import creation_order
from localcloud.fixes.cfn_replacement import needs_replacement
from localcloud.fixes.cfn_stack_events import resource_event, stack_event


@dataclass
class _Snapshot:
    """Everything an update may change, so a rollback can put it back."""

    rmap_state: dict[str, Any]
    parsed: dict[str, Any]
    stack_state: dict[str, Any]
    applied: dict[str, Any]

    @classmethod
    def take(cls, stack: Any) -> _Snapshot:
        rmap = stack.resource_map
        keys = ("template", "template_dict", "parameters", "tags", "output_map", "description", "role_arn")
        return cls(
            rmap_state=dict(rmap.__dict__),
            parsed=dict(rmap._parsed_resources),
            stack_state={key: getattr(stack, key) for key in keys},
            applied=copy.deepcopy(applied(stack)),
        )

    def restore(self, stack: Any) -> None:
        stack.resource_map.__dict__.update(self.rmap_state)
        stack.resource_map._parsed_resources = dict(self.parsed)
        for key, value in self.stack_state.items():
            setattr(stack, key, value)
        stack.lc_applied = copy.deepcopy(self.applied)


@dataclass
class _Progress:
    """What the update has done so far, in order."""

    added: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    replaced: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)


def _load_template(stack: Any, template_dict: dict[str, Any], parameters: dict[str, Any]) -> None:
    rmap = stack.resource_map
    rmap._template = template_dict
    rmap._resource_json_map = template_dict.get("Resources") or {}
    rmap.input_parameters = parameters
    rmap.resolved_parameters = {}
    rmap.load()


def _has_in_place_update(resource_class: Any) -> bool:
    method = getattr(resource_class, "update_from_cloudformation_json", None)
    return method is not None and not hasattr(method, "__isabstractmethod__")


def _replace(stack: Any, logical_id: str, old: Any, old_body: dict[str, Any], progress: _Progress) -> None:
    rmap = stack.resource_map
    body = rmap._resource_json_map[logical_id]
    reason = "Requested update requires the creation of a new physical resource; hence creating one."
    resource_event(stack, logical_id, body["Type"], "UPDATE_IN_PROGRESS", physical_id(old), reason)
    resolved = resolve(rmap, body)
    resource = parsing.parse_and_create_resource(logical_id, body, rmap, stack.account_id, stack.region_name)
    progress.replaced.append((logical_id, resource, old_body))
    rmap._parsed_resources[logical_id] = resource
    applied(stack)[logical_id] = resolved
    resource_event(stack, logical_id, body["Type"], "UPDATE_COMPLETE", physical_id(resource))


def _update_in_place(stack: Any, logical_id: str, old: Any, resolved: dict[str, Any]) -> None:
    rmap = stack.resource_map
    rtype = resolved["Type"]
    resource_event(stack, logical_id, rtype, "UPDATE_IN_PROGRESS", physical_id(old))
    resource = parsing.resource_class_from_type(rtype).update_from_cloudformation_json(
        original_resource=old,
        new_resource_name=physical_id(old),
        cloudformation_json=copy.deepcopy(resolved),
        account_id=stack.account_id,
        region_name=stack.region_name,
    )
    resource.cf_resource_type = rtype
    resource.logical_resource_id = logical_id
    rmap._parsed_resources[logical_id] = resource
    applied(stack)[logical_id] = resolved
    resource_event(stack, logical_id, rtype, "UPDATE_COMPLETE", physical_id(resource))


def _modify(stack: Any, logical_id: str, snapshot: _Snapshot, progress: _Progress) -> None:
    rmap = stack.resource_map
    body = rmap._resource_json_map[logical_id]
    old = snapshot.parsed[logical_id]
    old_body = snapshot.rmap_state["_resource_json_map"][logical_id]
    before = applied(stack).get(logical_id) or {}
    resolved = resolve(rmap, body)
    if before.get("Type") == resolved["Type"] and before.get("Properties") == resolved.get("Properties"):
        return  # nothing this resource sees has changed
    resource_class = parsing.resource_class_from_type(resolved["Type"])
    if (
        before.get("Type") != resolved["Type"]
        or needs_replacement(before, resolved)
        or not (_has_in_place_update(resource_class))
    ):
        _replace(stack, logical_id, old, old_body, progress)
        return
    progress.updated.append(logical_id)
    _update_in_place(stack, logical_id, old, resolved)


def _step(stack: Any, logical_id: str, snapshot: _Snapshot, progress: _Progress) -> None:
    rmap = stack.resource_map
    body = rmap._resource_json_map[logical_id]
    if not condition_holds(rmap, body):
        return
    if logical_id not in snapshot.parsed or logical_id not in snapshot.rmap_state["_resource_json_map"]:
        if create_resource(stack, logical_id):
            progress.added.append((logical_id, rmap._parsed_resources[logical_id], body))
        return
    try:
        _modify(stack, logical_id, snapshot, progress)
    except ResourceFailed:
        raise
    except Exception as exc:  # the resource's own failure, reported on it
        reason = failure_reason(exc)
        resource_event(
            stack, logical_id, body["Type"], "UPDATE_FAILED", physical_id(snapshot.parsed[logical_id]), reason
        )
        raise ResourceFailed(logical_id, reason) from exc


def _removed(stack: Any, snapshot: _Snapshot) -> list[str]:
    """Resources that existed before and are no longer in the (active part of the) new template."""
    rmap = stack.resource_map
    old_bodies = snapshot.rmap_state["_resource_json_map"]
    gone = [
        lid
        for lid in old_bodies
        if lid in snapshot.parsed
        and (lid not in rmap._resource_json_map or not condition_holds(rmap, rmap._resource_json_map[lid]))
    ]
    order = list(reversed(creation_order(old_bodies)))
    return sorted(gone, key=order.index)


def _clean_up(stack: Any, snapshot: _Snapshot, progress: _Progress) -> None:
    stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    parsed = stack.resource_map._parsed_resources
    for logical_id, _new, old_body in reversed(progress.replaced):
        # The old physical resource of a replacement: delete it without touching the new one.
        current = parsed[logical_id]
        parsed[logical_id] = snapshot.parsed[logical_id]
        delete_resources(stack, [logical_id], {logical_id: old_body})
        parsed[logical_id] = current
    removed = _removed(stack, snapshot)
    old_bodies = snapshot.rmap_state["_resource_json_map"]
    delete_resources(stack, removed, {lid: old_bodies[lid] for lid in removed})
    stack_event(stack, "UPDATE_COMPLETE")


def _roll_back(stack: Any, snapshot: _Snapshot, progress: _Progress, failure: ResourceFailed) -> None:
    stack_event(
        stack, "UPDATE_ROLLBACK_IN_PROGRESS", f"The following resource(s) failed to update: [{failure.logical_id}]. "
    )
    new_objects = {lid: obj for lid, obj, _body in progress.added + progress.replaced}
    new_bodies = {lid: body for lid, _obj, body in progress.added}
    new_bodies.update({lid: stack.resource_map._resource_json_map[lid] for lid, _o, _b in progress.replaced})
    updated_objects = {lid: stack.resource_map._parsed_resources[lid] for lid in progress.updated}
    snapshot.restore(stack)
    failed = False
    for logical_id in reversed(progress.updated):
        try:
            _update_in_place(stack, logical_id, updated_objects[logical_id], snapshot.applied[logical_id])
        except Exception as exc:  # a rollback that cannot restore a resource leaves UPDATE_ROLLBACK_FAILED
            resource_event(
                stack, logical_id, snapshot.applied[logical_id]["Type"], "UPDATE_FAILED", reason=failure_reason(exc)
            )
            failed = True
    stack_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    parsed = stack.resource_map._parsed_resources
    for logical_id in reversed(list(new_objects)):
        previous = parsed.get(logical_id)
        parsed[logical_id] = new_objects[logical_id]
        delete_resources(stack, [logical_id], {logical_id: {**new_bodies[logical_id], "DeletionPolicy": "Delete"}})
        if previous is not None:
            parsed[logical_id] = previous
    stack.lc_applied = copy.deepcopy(snapshot.applied)
    stack_event(stack, "UPDATE_ROLLBACK_FAILED" if failed else "UPDATE_ROLLBACK_COMPLETE")


def update(
    self: Any,
    template: str,
    role_arn: str | None = None,
    parameters: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Replacement for ``Stack.update``: the whole update, rollback included."""
    snapshot = _Snapshot.take(self)
    template_dict = cfn_models.Stack.parse_template(template)
    try:
        _load_template(self, template_dict, dict(parameters or {}))
        order = creation_order(self.resource_map._resource_json_map)
    except Exception:
        snapshot.restore(self)  # a template or parameter error is the API call's error, before any event
        raise
    stack_event(self, "UPDATE_IN_PROGRESS", "User Initiated")
    progress = _Progress()
    try:
        for logical_id in order:
            _step(self, logical_id, snapshot, progress)
    except ResourceFailed as failure:
        _roll_back(self, snapshot, progress, failure)
        return
    self.template, self.template_dict = template, template_dict
    self.parameters = dict(parameters or {})
    self.role_arn = role_arn or self.role_arn
    self.tags = self.tags if tags is None else tags
    self.description = template_dict.get("Description")
    self.output_map = parsing.OutputMap(self.resource_map, template_dict, self.stack_id)
    _clean_up(self, snapshot, progress)


def apply() -> None:
    cfn_models.Stack.update = update
