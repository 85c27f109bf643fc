"""What a stack's names stand for (pseudo parameters, resources' Ref and GetAtt values, imports), its Outputs and
its Exports.

AWS behaviour: ``Ref`` to a resource gives its physical id, ``Fn::GetAtt`` one of the attributes its type
returns ("Template error: resource X does not support attribute type Y in Fn::GetAtt" otherwise),
``Fn::ImportValue`` another stack's export in the same account and region ("No export named X found"). Outputs
are resolved once the resources exist; an output with ``Export.Name`` publishes that value under that name for as
long as the stack has the output.
"""

from __future__ import annotations

from typing import Any

from moto.utilities.utils import get_partition

from localcloud.cloudformation.errors import ValidationError
from localcloud.cloudformation.parameters import for_resolution
from localcloud.cloudformation.stacks import Export, Region, Stack
from localcloud.cloudformation.template import Context, Unknown, as_text, evaluate_conditions, resolve


def pseudo_parameters(stack: Stack) -> dict[str, Any]:
    return {
        "AWS::AccountId": stack.account_id,
        "AWS::Region": stack.region,
        "AWS::StackName": stack.name,
        "AWS::StackId": stack.stack_id,
        "AWS::Partition": get_partition(stack.region),
        "AWS::URLSuffix": "amazonaws.com.cn" if stack.region.startswith("cn-") else "amazonaws.com",
        "AWS::NotificationARNs": list(stack.notification_arns),
    }


def context(
    region: Region, stack: Stack, template: dict[str, Any], values: dict[str, str], unknown: set[str] = frozenset()
) -> Context:  # type: ignore[assignment]
    """Resolution against the stack's current resources; names in ``unknown`` resolve to ``Unknown``."""

    def ref(name: str) -> Any:
        resource = stack.resources.get(name)
        if name in unknown or resource is None:
            return Unknown(name)
        return resource.physical_id

    def get_att(name: str, attribute: str) -> Any:
        resource = stack.resources.get(name)
        if name in unknown or resource is None:
            return Unknown(name)
        if attribute not in resource.attributes:
            raise ValidationError(
                f"Template error: resource {name} does not support attribute type {attribute} in Fn::GetAtt"
            )
        return resource.attributes[attribute]

    def export(name: str) -> Any:
        found = region.exports.get(name)
        if found is None:
            raise ValidationError(f"No export named {name} found. Rollback requested by user.")
        return found.value

    ctx = Context(
        parameters=for_resolution(template, values),
        pseudo=pseudo_parameters(stack),
        mappings=template.get("Mappings") or {},
        ref=ref,
        get_att=get_att,
        export=export,
    )
    evaluate_conditions(template, ctx)
    return ctx


def resolve_outputs(template: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
    found = []
    for key, body in (template.get("Outputs") or {}).items():
        if body.get("Condition") and not ctx.conditions.get(body["Condition"]):
            continue
        output: dict[str, Any] = {"OutputKey": key, "OutputValue": as_text(resolve(body.get("Value"), ctx))}
        if body.get("Description"):
            output["Description"] = body["Description"]
        if (body.get("Export") or {}).get("Name") is not None:
            output["ExportName"] = as_text(resolve(body["Export"]["Name"], ctx))
        found.append(output)
    return found


def check_exports(region: Region, stack: Stack, outputs: list[dict[str, Any]]) -> None:
    for output in outputs:
        name = output.get("ExportName")
        taken = region.exports.get(name) if name else None
        if taken is not None and taken.stack_id != stack.stack_id:
            raise ValidationError(f"Export with name {name} is already exported by stack {taken.stack_id}")


def withdraw_exports(region: Region, stack: Stack) -> None:
    for name in [n for n, e in region.exports.items() if e.stack_id == stack.stack_id]:
        del region.exports[name]


def publish_exports(region: Region, stack: Stack) -> None:
    check_exports(region, stack, stack.outputs)
    withdraw_exports(region, stack)
    for output in stack.outputs:
        if output.get("ExportName"):
            region.exports[output["ExportName"]] = Export(output["ExportName"], output["OutputValue"], stack.stack_id)
