"""The CloudFormation actions that only read: stacks, events, resources, templates, change sets and exports.

AWS behaviour: DescribeStacks without a name lists live stacks; a deleted stack is found by its id only.
DescribeStackEvents lists newest first. ListChangeSets lists one stack's change sets that can still be acted on
(CloudFormation removes a stack's change sets once one is executed). GetTemplate returns the template text as
submitted. ValidateTemplate / GetTemplateSummary describe a template's parameters and required capabilities.
"""

from __future__ import annotations

from typing import Any

from localcloud.cloudformation import describe, prepare, sources
from localcloud.cloudformation.errors import ValidationError
from localcloud.cloudformation.verbs import Call


def describe_stacks(call: Call) -> dict[str, Any]:
    name = call.params.get("StackName")
    found = [call.region.stack(name)] if name else [s for s in call.region.stacks.values() if s.deleted is None]
    return {"Stacks": [describe.stack(s) for s in found]}


def list_stacks(call: Call) -> dict[str, Any]:
    wanted = set(call.params.get("StackStatusFilter") or [])
    found = [s for s in call.region.stacks.values() if not wanted or s.status in wanted]
    return {"StackSummaries": [describe.summary(s) for s in reversed(found)]}


def describe_stack_events(call: Call) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    return {"StackEvents": [describe.event(e) for e in reversed(list(stack.events))]}


def _resource(call: Call) -> Any:
    stack = call.region.stack(call.params["StackName"])
    logical_id = call.params["LogicalResourceId"]
    found = stack.resources.get(logical_id)
    if found is None:
        raise ValidationError(f"Resource {logical_id} does not exist for stack {stack.name}")
    return stack, found


def describe_stack_resource(call: Call) -> dict[str, Any]:
    stack, found = _resource(call)
    return {"StackResourceDetail": describe.resource(stack, found, detail=True)}


def describe_stack_resources(call: Call) -> dict[str, Any]:
    physical = call.params.get("PhysicalResourceId")
    if call.params.get("StackName"):
        stack = call.region.stack(call.params["StackName"])
    else:
        stack = next(
            (s for s in call.region.stacks.values() if any(r.physical_id == physical for r in s.resources.values())),
            None,
        )
        if stack is None:
            raise ValidationError(f"Stack for {physical} does not exist")
    wanted = call.params.get("LogicalResourceId")
    found = [r for r in stack.resources.values() if wanted in (None, r.logical_id)]
    return {"StackResources": [describe.resource(stack, r) for r in found]}


def list_stack_resources(call: Call) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    return {"StackResourceSummaries": [describe.resource_summary(r) for r in stack.resources.values()]}


def get_template(call: Call) -> dict[str, Any]:
    if call.params.get("ChangeSetName"):
        body = call.region.change_set(call.params["ChangeSetName"], call.params.get("StackName")).template_body
    else:
        body = call.region.stack(call.params["StackName"]).template_body
    return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}


def _template_from(call: Call) -> dict[str, Any]:
    if call.params.get("StackName") and not (call.params.get("TemplateBody") or call.params.get("TemplateURL")):
        return call.region.stack(call.params["StackName"]).template
    body = sources.template_body(call.params, call.region.account_id, call.region.region)
    return prepare.read_template(body)


def _capabilities(parsed: dict[str, Any]) -> dict[str, Any]:
    validate = prepare.validate_module()
    needed = validate.required_capability(parsed["Resources"]) if validate else None
    if not needed:
        return {}
    return {"Capabilities": [needed], "CapabilitiesReason": "The following resource(s) require capabilities: IAM"}


def validate_template(call: Call) -> dict[str, Any]:
    parsed = _template_from(call)
    return {
        "Parameters": describe.template_parameters(parsed, summary_shape=False),
        "Description": parsed.get("Description"),
        **_capabilities(parsed),
        "DeclaredTransforms": _transforms(parsed),
    }


def _transforms(parsed: dict[str, Any]) -> list[str]:
    transform = parsed.get("Transform") or []
    return [transform] if isinstance(transform, str) else list(transform)


def get_template_summary(call: Call) -> dict[str, Any]:
    parsed = _template_from(call)
    return {
        "Parameters": describe.template_parameters(parsed, summary_shape=True),
        "Description": parsed.get("Description"),
        **_capabilities(parsed),
        "ResourceTypes": sorted({body["Type"] for body in parsed["Resources"].values()}),
        "Version": parsed.get("AWSTemplateFormatVersion", "2010-09-09"),
        "DeclaredTransforms": _transforms(parsed),
    }


def describe_change_set(call: Call) -> dict[str, Any]:
    return describe.change_set(call.region.change_set(call.params["ChangeSetName"], call.params.get("StackName")))


def list_change_sets(call: Call) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    pending = [
        c
        for c in call.region.change_sets.values()
        if c.stack_id == stack.stack_id and c.execution_status in ("AVAILABLE", "UNAVAILABLE", "EXECUTE_IN_PROGRESS")
    ]
    return {"Summaries": [describe.change_set_summary(c) for c in pending]}


def list_exports(call: Call) -> dict[str, Any]:
    return {
        "Exports": [
            {"ExportingStackId": e.stack_id, "Name": e.name, "Value": e.value} for e in call.region.exports.values()
        ]
    }


def list_imports(call: Call) -> dict[str, Any]:
    name = call.params["ExportName"]
    if name not in call.region.exports:
        raise ValidationError(f"Export '{name}' is not imported by any stack.")
    importing = [s.name for s in call.region.stacks.values() if s.deleted is None and name in _imported(s.template)]
    if not importing:
        raise ValidationError(f"Export '{name}' is not imported by any stack.")
    return {"Imports": importing}


def _imported(node: Any) -> set[str]:
    """The export names a template imports by a literal Fn::ImportValue."""
    if isinstance(node, list):
        return set().union(*map(_imported, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["Fn::ImportValue"]} if isinstance(node.get("Fn::ImportValue"), str) else set()
    return found.union(*map(_imported, node.values()))
