"""What a change set would do: Add / Modify / Remove per logical resource, with Replacement and Details.

AWS behaviour: a change set compares the submitted template and parameters with what is deployed and lists one
ResourceChange per affected logical resource: ``Action`` Add, Modify or Remove, ``Replacement`` True / False /
Conditional, ``Scope`` (``Properties``, ``Tags``) and ``Details`` naming each changed property, whether it
forces recreation and what caused it (a direct edit, a parameter, another resource).

moto gap: moto diffs against the template it parsed at creation time and, for an update change set, lists every
resource as Add; it reports neither Replacement nor Details.

Patches: ``moto.cloudformation.models.ChangeSet.diff``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing

from localcloud.fixes.cfn_order import references
from localcloud.fixes.cfn_replacement import requires_recreation


class ResourceChange:
    """One entry of DescribeChangeSet's ``Changes`` (attribute names follow the API shape)."""

    def __init__(self, action: str, logical_id: str, resource_type: str, physical: str | None = None) -> None:
        self.action = action
        self.logical_resource_id = logical_id
        self.resource_type = resource_type
        self.physical_resource_id = physical
        self.replacement: str | None = None
        self.scope: list[str] = []
        self.details: list[dict[str, Any]] = []


def _new_resource_map(stack: Any, template: dict[str, Any], parameters: dict[str, Any]) -> Any:
    """Parameters and conditions of the submitted template, resolved without creating anything."""
    rmap = parsing.ResourceMap(
        stack.stack_id,
        stack.name,
        parameters,
        {},
        region_name=stack.region_name,
        account_id=stack.account_id,
        template=template,
        cross_stack_resources={},
    )
    rmap.load()
    return rmap


def _active(rmap: Any, resources: dict[str, Any]) -> set[str]:
    return {
        lid
        for lid, body in resources.items()
        if not body.get("Condition") or rmap.lazy_condition_map[body["Condition"]]
    }


def _detail(name: str, rtype: str, source: str, entity: str | None, dynamic: bool) -> dict[str, Any]:
    recreation = "Always" if requires_recreation(rtype, name) else "Never"
    attribute = "Tags" if name == "Tags" else "Properties"
    detail: dict[str, Any] = {
        "Target": {"Attribute": attribute, "Name": name, "RequiresRecreation": recreation},
        "Evaluation": "Dynamic" if dynamic else "Static",
        "ChangeSource": source,
    }
    if entity:
        detail["CausingEntity"] = entity
    return detail


def _property_details(old: dict, new: dict, rtype: str, changed_params: set[str], replaced: set[str]) -> list[dict]:
    details = []
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    for name in sorted(set(old_props) | set(new_props)):
        refs = references(new_props.get(name))
        if old_props.get(name) != new_props.get(name):
            details.append(_detail(name, rtype, "DirectModification", None, False))
        for param in sorted(refs & changed_params):
            details.append(_detail(name, rtype, "ParameterReference", param, False))
        for resource in sorted(refs & replaced):
            details.append(_detail(name, rtype, "ResourceReference", resource, True))
    return details


def _modification(lid: str, old: dict, new: dict, physical: str, changed: set[str], replaced: set[str]) -> Any:
    """The Modify entry for one resource, or None when nothing it depends on changed."""
    rtype = new["Type"]
    details = _property_details(old, new, rtype, changed, replaced)
    other_keys_changed = {k: v for k, v in old.items() if k != "Properties"} != {
        k: v for k, v in new.items() if k != "Properties"
    }
    if not details and not other_keys_changed and old.get("Type") == rtype:
        return None
    change = ResourceChange("Modify", lid, rtype, physical)
    always = [d for d in details if d["Target"]["RequiresRecreation"] == "Always"]
    if old.get("Type") != rtype or any(d["Evaluation"] == "Static" for d in always):
        change.replacement = "True"
    else:
        change.replacement = "Conditional" if always else "False"
    change.scope = sorted({d["Target"]["Attribute"] for d in details}) or ["Properties"]
    change.details = details
    return change


def plan(stack: Any, template: dict[str, Any], parameters: dict[str, Any]) -> list[ResourceChange]:
    """Every resource change that deploying ``template`` with ``parameters`` on ``stack`` would make."""
    new_map = _new_resource_map(stack, template, parameters)
    old_map = stack.resource_map
    new_resources = template.get("Resources") or {}
    old_resources = old_map._resource_json_map if stack.status != "REVIEW_IN_PROGRESS" else {}
    deployed = {lid for lid in old_resources if lid in old_map._parsed_resources}
    wanted = _active(new_map, new_resources)
    old_params = old_map.resolved_parameters if deployed else {}
    changed_params = {
        k
        for k in set(old_params) | set(new_map.resolved_parameters)
        if old_params.get(k) != new_map.resolved_parameters.get(k)
    }
    changes = [
        ResourceChange("Add", lid, new_resources[lid]["Type"]) for lid in new_resources if lid in wanted - deployed
    ]
    replaced: set[str] = set()
    modifications: dict[str, ResourceChange] = {}
    for _ in range(len(new_resources) + 1):  # until replacements stop cascading through references
        for lid in sorted(wanted & deployed, key=list(new_resources).index):
            physical = str(getattr(old_map._parsed_resources[lid], "physical_resource_id", "") or "")
            change = _modification(lid, old_resources[lid], new_resources[lid], physical, changed_params, replaced)
            if change:
                modifications[lid] = change
        now_replaced = {lid for lid, c in modifications.items() if c.replacement != "False"}
        if now_replaced == replaced:
            break
        replaced = now_replaced
    changes += [modifications[lid] for lid in new_resources if lid in modifications]
    for lid in old_resources:
        if lid in deployed and lid not in wanted:
            physical = str(getattr(old_map._parsed_resources[lid], "physical_resource_id", "") or "")
            changes.append(ResourceChange("Remove", lid, old_resources[lid]["Type"], physical))
    return changes


def diff(self: Any) -> list[ResourceChange]:
    """Replacement for ``ChangeSet.diff``."""
    return plan(self.stack, self.template_dict, self.parameters or {})


def apply() -> None:
    cfn_models.ChangeSet.diff = diff
