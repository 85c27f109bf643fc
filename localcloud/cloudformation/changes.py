"""The change-set model: what deploying a template would do to a stack, per resource and per property, as data.

AWS behaviour: a change set compares the submitted template and parameters with what is deployed and lists one
ResourceChange per affected logical resource: ``Action`` Add, Modify or Remove, ``Replacement`` True / False /
Conditional, ``Scope`` (``Properties``, ``Tags``) and ``Details`` naming each changed property, whether it
forces recreation (the type's schema ``createOnlyProperties``), how it was evaluated (Static, or Dynamic when it
depends on a resource being replaced) and what caused it (DirectModification, ParameterReference,
ResourceReference). The executor uses the same decisions (``needs_replacement``) resource by resource.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcloud.cloudformation import schemas
from localcloud.cloudformation.template import Context, references, resolve


@dataclass
class Detail:
    name: str
    requires_recreation: str  # Always | Never
    evaluation: str  # Static | Dynamic
    change_source: str  # DirectModification | ParameterReference | ResourceReference
    causing_entity: str | None = None
    values: dict[str, Any] | None = None  # a drift-aware change set's before/after values of the property

    @property
    def attribute(self) -> str:
        return "Tags" if self.name == "Tags" else "Properties"

    def describe(self) -> dict[str, Any]:
        target = {"Attribute": self.attribute, "Name": self.name, "RequiresRecreation": self.requires_recreation}
        target.update(self.values or {})
        found: dict[str, Any] = {"Target": target, "Evaluation": self.evaluation, "ChangeSource": self.change_source}
        if self.causing_entity:
            found["CausingEntity"] = self.causing_entity
        return found


@dataclass
class ResourceChange:
    action: str  # Add | Modify | Remove
    logical_id: str
    resource_type: str
    physical_id: str | None = None
    replacement: str | None = None
    details: list[Detail] = field(default_factory=list)
    drift_status: str | None = None  # drift-aware change sets only, with the contexts below
    before_context: str | None = None
    after_context: str | None = None

    @property
    def scope(self) -> list[str]:
        return sorted({d.attribute for d in self.details})

    def describe(self) -> dict[str, Any]:
        change: dict[str, Any] = {
            "Action": self.action,
            "LogicalResourceId": self.logical_id,
            "ResourceType": self.resource_type,
            "Scope": self.scope,
            "Details": [d.describe() for d in self.details],
        }
        if self.physical_id:
            change["PhysicalResourceId"] = self.physical_id
        if self.replacement:
            change["Replacement"] = self.replacement
        drift = {
            "ResourceDriftStatus": self.drift_status,
            "BeforeContext": self.before_context,
            "AfterContext": self.after_context,
        }
        change.update({key: value for key, value in drift.items() if value is not None})
        return {"Type": "Resource", "ResourceChange": change}


def changed_properties(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Top-level property names whose value differs (an Unknown value always differs)."""
    return [name for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]


def needs_replacement(resource_type: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether going from the deployed properties to the new ones replaces the resource."""
    create_only = schemas.create_only_properties(resource_type)
    return any(name in create_only for name in changed_properties(old, new))


@dataclass
class Deployed:
    """What the planner needs to know about one deployed resource."""

    resource_type: str
    body: dict[str, Any]
    properties: dict[str, Any]
    physical_id: str | None


@dataclass
class Plan:
    """The inputs of one diff: the stack as deployed and the template as submitted."""

    deployed: dict[str, Deployed]
    resources: dict[str, Any]  # the new template's Resources
    active: set[str]  # the new template's resources whose Condition holds
    changed_parameters: set[str]
    context_for: Callable[[set[str]], Context]  # a resolution context in which these resources are Unknown


def _details(plan: Plan, logical_id: str, new_props: dict[str, Any], replaced: set[str]) -> list[Detail]:
    deployed = plan.deployed[logical_id]
    rtype = plan.resources[logical_id]["Type"]
    create_only = schemas.create_only_properties(rtype)
    raw_old = deployed.body.get("Properties") or {}
    raw_new = plan.resources[logical_id].get("Properties") or {}
    details = []
    for name in changed_properties(deployed.properties, new_props):
        recreation = "Always" if name in create_only else "Never"
        refs = references(raw_new.get(name))
        found = []
        if raw_old.get(name) != raw_new.get(name):
            found.append(Detail(name, recreation, "Static", "DirectModification"))
        found += [
            Detail(name, recreation, "Static", "ParameterReference", p) for p in sorted(refs & plan.changed_parameters)
        ]
        found += [Detail(name, recreation, "Dynamic", "ResourceReference", r) for r in sorted(refs & replaced)]
        details += found or [Detail(name, recreation, "Dynamic", "ResourceAttribute")]
    return details


def _modification(plan: Plan, logical_id: str, replaced: set[str], ctx: Context) -> ResourceChange | None:
    deployed = plan.deployed[logical_id]
    body = plan.resources[logical_id]
    new_props = resolve(body.get("Properties") or {}, ctx) or {}
    details = _details(plan, logical_id, new_props, replaced)
    type_changed = deployed.resource_type != body["Type"]
    if not details and not type_changed:
        return None
    change = ResourceChange("Modify", logical_id, body["Type"], deployed.physical_id, details=details)
    always = [d for d in details if d.requires_recreation == "Always"]
    if type_changed or any(d.evaluation == "Static" for d in always):
        change.replacement = "True"
    else:
        change.replacement = "Conditional" if always else "False"
    return change


def diff(plan: Plan) -> list[ResourceChange]:
    """Every resource change deploying the template would make: Adds, then Modifies, then Removes."""
    order = list(plan.resources)
    kept = [lid for lid in order if lid in plan.active and lid in plan.deployed]
    changes = [
        ResourceChange("Add", lid, plan.resources[lid]["Type"])
        for lid in order
        if lid in plan.active - set(plan.deployed)
    ]
    replaced: set[str] = set()
    modifications: dict[str, ResourceChange] = {}
    for _ in range(len(order) + 1):  # until replacements stop cascading through references
        ctx = plan.context_for(replaced)
        modifications = {lid: c for lid in kept if (c := _modification(plan, lid, replaced, ctx)) is not None}
        now_replaced = {lid for lid, c in modifications.items() if c.replacement != "False"}
        if now_replaced == replaced:
            break
        replaced = now_replaced
    changes += [modifications[lid] for lid in kept if lid in modifications]
    for lid, deployed in plan.deployed.items():
        if lid not in plan.active:
            changes.append(ResourceChange("Remove", lid, deployed.resource_type, deployed.physical_id))
    return changes
