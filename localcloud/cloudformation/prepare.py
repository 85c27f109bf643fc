"""What CloudFormation checks before it changes anything, turned into a ``Deployment`` ready to plan or execute.

AWS behaviour: CreateStack, UpdateStack and CreateChangeSet refuse, with ValidationError and creating nothing
(no stack, no REVIEW_IN_PROGRESS stack, no change set):
- a stack name outside ``[a-zA-Z][-a-zA-Z0-9]*`` or longer than 128 characters;
- a template that is not JSON/YAML or has no Resources ("Template format error: ...");
- an unknown resource type ("Template format error: Unrecognized resource types: [A, B]", every unknown type
  once, in template order);
- a Ref, GetAtt, Sub variable or DependsOn naming nothing ("Template format error: Unresolved resource
  dependencies [X] in the Resources block of the template");
- a dependency cycle ("Circular dependency between resources: [A, B]");
- parameter values that break their declarations (``parameters.effective``);
- pre-deployment validation findings and missing capabilities (``validate``, when present).
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any

from localcloud.cloudformation import outputs, resources, sources, template
from localcloud.cloudformation import parameters as parameter_values
from localcloud.cloudformation.errors import InsufficientCapabilities, TemplateError, ValidationError
from localcloud.cloudformation.execute import Deployment
from localcloud.cloudformation.resources.generic import attribute_names
from localcloud.cloudformation.stacks import Region, Stack

_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")


def check_name(name: str | None, field_name: str = "stackName") -> None:
    if not name or not _NAME.fullmatch(name) or len(name) > 128:
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at '{field_name}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
            + (" and Member must have length less than or equal to 128" if len(name or "") > 128 else "")
        )


def check_types(parsed: dict[str, Any]) -> None:
    unknown: list[str] = []
    for body in parsed["Resources"].values():
        if not resources.known(body["Type"]) and body["Type"] not in unknown:
            unknown.append(body["Type"])
    if unknown:
        raise TemplateError(f"Unrecognized resource types: [{', '.join(unknown)}]")


def read_template(body: str) -> dict[str, Any]:
    """The parsed template after every structural check CloudFormation makes on it alone."""
    parsed = template.load(body)
    check_types(parsed)
    template.check_references(parsed)
    check_attributes(parsed)
    template.check_conditions(parsed)
    template.creation_order(parsed["Resources"])  # raises on a cycle
    return parsed


def check_attributes(parsed: dict[str, Any]) -> None:
    """A GetAtt of an attribute the resource's type does not have: "Template error: resource X does not support
    attribute type Y in Fn::GetAtt" (AWS's answer as serverless/serverless users quote it, and moto's own text).
    Only types with a provider schema are judged (custom resources and stacks may have any attribute)."""
    for logical_id, attribute in template.get_atts({k: v for k, v in parsed.items() if k in ("Resources", "Outputs")}):
        body = parsed["Resources"].get(logical_id)
        if body is None or not resources.has_schema(body["Type"]) or body["Type"] == "AWS::CloudFormation::Stack":
            continue
        if attribute not in attribute_names(body["Type"]):
            raise ValidationError(
                f"Template error: resource {logical_id} does not support attribute type {attribute} in Fn::GetAtt"
            )


def validate_module() -> Any:
    try:
        return importlib.import_module("localcloud.cloudformation.validate")
    except ImportError:
        return None


def check_capabilities(parsed: dict[str, Any], capabilities: list[str]) -> None:
    validate = validate_module()
    missing = validate.missing_capability(parsed["Resources"], capabilities) if validate else None
    if missing:
        raise InsufficientCapabilities(validate.capability_message(missing))


def refusal(found: list[Any]) -> str | None:
    """The status reason when FAIL-mode findings stop the operation, else None."""
    validate = validate_module()
    return validate.status_reason(found) if validate and found else None


def resolved_for_validation(parsed: dict[str, Any], ctx: template.Context) -> dict[str, dict[str, Any]]:
    """Each resource's Type and Properties with parameters resolved; a property that needs a resource stays raw."""
    found = {}
    for logical_id, body in parsed["Resources"].items():
        props = {}
        for name, raw in (body.get("Properties") or {}).items():
            try:
                value = template.resolve(raw, ctx)
            except Exception:
                value = raw
            if value is not None:  # None: !Ref AWS::NoValue, the property is left out
                props[name] = raw if template.contains_unknown(value) else value
        found[logical_id] = {"Type": body["Type"], "Properties": props}
    return found


def findings(region: Region, wanted: Deployment, stack: Stack) -> list[Any]:
    """Pre-deployment validation findings (engine-extras' ``validate.findings``), or none without it."""
    validate = validate_module()
    if validate is None:
        return []
    ctx = outputs.context(region, stack, wanted.template, wanted.parameters, unknown=set(wanted.template["Resources"]))
    owned = {(r.resource_type, str(r.physical_id)) for r in stack.resources.values()}

    def name_taken(resource_type: str, name: str) -> bool:
        if (resource_type, name) in owned:
            return False
        return resources.name_taken(region.account_id, region.region, resource_type, name)

    return list(validate.findings(resolved_for_validation(wanted.template, ctx), name_taken=name_taken))


def change_set_warnings(region: Region, stack: Stack, planned: list[Any], template: dict[str, Any]) -> list[Any]:
    """WARN-mode findings of a change set: each bucket it would delete (removed, or replaced, without a Retain
    policy) that still holds objects. They never stop the change set (User Guide, "Validate stack deployments")."""
    validate = validate_module()
    if validate is None:
        return []
    from localcloud.cloudformation.resources.s3 import holds_objects

    has_objects = functools.partial(holds_objects, region.account_id, region.region)
    found = []
    for change in planned:
        deployed = stack.resources.get(change.logical_id)
        if deployed is None or deployed.resource_type != "AWS::S3::Bucket" or not deployed.physical_id:
            continue
        if change.action == "Remove":
            kept = deployed.body.get("DeletionPolicy") == "Retain"
        elif change.replacement == "True":
            body = template["Resources"].get(change.logical_id) or deployed.body
            kept = body.get("UpdateReplacePolicy") == "Retain"
        else:
            continue
        if not kept:
            found.extend(validate.bucket_emptiness(change.logical_id, deployed.physical_id, has_objects))
    return found


def deployment(region: Region, params: dict[str, Any], stack: Stack | None) -> Deployment:
    """The template and parameter values a CreateStack/UpdateStack/CreateChangeSet request asks to deploy."""
    previous_body = stack.template_body if stack else None
    body = sources.template_body(params, region.account_id, region.region, previous_body)
    parsed = read_template(body)
    previous = dict(stack.parameters) if stack and stack.template else None
    given = parameter_values.given_values(params.get("Parameters") or [], previous)
    values = parameter_values.effective(parsed, given)
    capabilities = list(params.get("Capabilities") or [])
    check_capabilities(parsed, capabilities)
    return Deployment(
        template=parsed,
        template_body=body,
        parameters=values,
        tags=params.get("Tags"),
        role_arn=params.get("RoleARN"),
        capabilities=capabilities,
    )


def is_noop(stack: Stack, wanted: Deployment) -> bool:
    """UpdateStack with the deployed template, parameter values and tags changes nothing."""
    same_tags = wanted.tags is None or wanted.tags == stack.tags
    return wanted.template == stack.template and wanted.parameters == stack.parameters and same_tags
