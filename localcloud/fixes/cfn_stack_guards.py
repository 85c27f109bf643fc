"""The API-level refusals CloudFormation makes before it touches anything.

AWS behaviour:
- A stack name must match ``[a-zA-Z][-a-zA-Z0-9]*`` and be at most 128 characters (ValidationError).
- UpdateStack with the same template, parameters and tags fails with ValidationError
  "No updates are to be performed."
- A stack in ``ROLLBACK_COMPLETE`` (a failed first create) can only be deleted: UpdateStack and UPDATE change
  sets give ValidationError "Stack:<id> is in ROLLBACK_COMPLETE state and can not be updated." Likewise a stack
  that is mid-operation or still in review.

moto gap: moto accepts any stack name, only spots a no-op update when parameters are passed and the template text
is byte-identical, and checks the stack state after that.

Patches: wraps ``CloudFormationBackend.create_stack`` and ``CloudFormationBackend.update_stack``.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation.exceptions import ValidationError

_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
_NOT_UPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "REVIEW_IN_PROGRESS", "DELETE_FAILED", "CREATE_FAILED")


def check_stack_name(name: str) -> None:
    if not name or not _STACK_NAME.fullmatch(name) or len(name) > 128:
        raise ValidationError(
            message=f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
            + (" and Member must have length less than or equal to 128" if len(name or "") > 128 else "")
        )


def check_updatable(stack: Any) -> None:
    if stack.status in _NOT_UPDATABLE or stack.status.endswith("_IN_PROGRESS"):
        raise ValidationError(message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")


def effective_parameters(template: dict[str, Any], given: dict[str, Any] | None) -> dict[str, str]:
    """The value each template parameter would take: the given one, else its default (as strings)."""
    given = given or {}
    declared = template.get("Parameters") or {}
    values = {name: given.get(name, spec.get("Default")) for name, spec in declared.items()}
    return {name: ",".join(map(str, v)) if isinstance(v, list) else str(v) for name, v in values.items()}


def _is_noop(stack: Any, template: str, parameters: dict[str, Any], tags: dict[str, str] | None) -> bool:
    new_template = cfn_models.Stack.parse_template(template)
    if new_template != stack.template_dict:
        return False
    if effective_parameters(new_template, parameters) != effective_parameters(stack.template_dict, stack.parameters):
        return False
    return tags is None or tags == stack.tags


def _guard_create(original: Any) -> Any:
    def create_stack(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        check_stack_name(name)
        return original(self, name, *args, **kwargs)

    return create_stack


def _guard_update(original: Any) -> Any:
    def update_stack(self: Any, name: str, template: str, role_arn: Any, parameters: list, tags: Any) -> Any:
        stack = self.get_stack(name)
        check_updatable(stack)
        resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
        if _is_noop(stack, template, resolved, tags):
            raise ValidationError(message="No updates are to be performed.")
        return original(self, name, template, role_arn, parameters, tags)

    return update_stack


def apply() -> None:
    backend = cfn_models.CloudFormationBackend
    backend.create_stack = _guard_create(backend.create_stack)
    backend.update_stack = _guard_update(backend.update_stack)
