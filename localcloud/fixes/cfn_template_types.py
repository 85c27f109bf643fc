"""A template naming a resource type CloudFormation does not know is refused before anything is created.

AWS behaviour: CreateStack, UpdateStack and CreateChangeSet validate the template's resource types first; an
unknown one gives ValidationError "Template format error: Unrecognized resource types: [AWS::Nope::Nothing]"
(every unknown type, once, in template order) and nothing is created: no stack, no REVIEW_IN_PROGRESS stack for a
CREATE change set, no change set.

moto gap: moto accepts the template, skips the unknown resource with a warning and the stack ends CREATE_COMPLETE
(with ``cfn_deploy`` it at least fails and rolls back, but only after creating the stack and its other resources).

Known here: the types moto's CloudFormation model map has (including this project's, see
``cfn_resource_types``), the ones moto deliberately does nothing for (``parsing.NULL_MODELS``, e.g.
``AWS::CloudFormation::WaitConditionHandle``) and ``Custom::*``, which moto implements. A real AWS type that
moto cannot deploy (e.g. ``AWS::CloudFormation::CustomResource``) is refused the same way, so it is found here
rather than halfway through a deploy.

Patches: wraps ``CloudFormationBackend.create_stack``, ``update_stack`` and ``create_change_set``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError


def known(resource_type: str) -> bool:
    if resource_type in parsing.NULL_MODELS or resource_type.startswith("Custom::"):
        return True
    return resource_type in parsing.get_model_map()


def check(template: str | dict[str, Any]) -> None:
    """Raise CloudFormation's ValidationError if ``template`` names a resource type that is not known."""
    try:
        body = cfn_models.Stack.parse_template(template) if isinstance(template, str) else template
    except Exception:  # not for this check to judge: moto's own parsing reports a malformed template
        return
    resources = body.get("Resources") if isinstance(body, dict) else None
    unknown: list[str] = []
    for resource in (resources or {}).values():
        rtype = resource.get("Type") if isinstance(resource, dict) else None
        if isinstance(rtype, str) and not known(rtype) and rtype not in unknown:
            unknown.append(rtype)
    if unknown:
        raise ValidationError(message=f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]")


def _checked(original: Any, template_position: int) -> Any:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        template = kwargs["template"] if "template" in kwargs else args[template_position]
        check(template)
        return original(self, *args, **kwargs)

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    return wrapper


def apply() -> None:
    backend = cfn_models.CloudFormationBackend
    # create_stack(name, template, ...), update_stack(name, template, ...), create_change_set(name, cs, template, ...)
    backend.create_stack = _checked(backend.create_stack, 1)
    backend.update_stack = _checked(backend.update_stack, 1)
    backend.create_change_set = _checked(backend.create_change_set, 2)
