"""Wire handling for CreateChangeSet and UpdateTerminationProtection, as the CloudFormation API defines them.

AWS behaviour: CreateChangeSet's ``ChangeSetType`` defaults to UPDATE. A parameter given with
``UsePreviousValue: true`` takes the deployed value (an error if the stack has none). A change set that repeats
the deployed template is still created (and ends FAILED as empty); it is never rejected with "No updates are to
be performed." UpdateTerminationProtection turns a stack's termination protection on or off.

moto gap: moto defaults ChangeSetType to CREATE, rejects an unchanged UPDATE change set with UpdateStack's
error when parameters are passed, fails on UsePreviousValue for CREATE, and has no UpdateTerminationProtection.

Patches: ``CloudFormationResponse.create_change_set``; adds ``CloudFormationResponse.update_termination_protection``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import responses
from moto.cloudformation.exceptions import ValidationError
from moto.core.responses import ActionResult

from localcloud.fixes.cfn_deploy import find_stack


def _deployed_parameters(stack: Any) -> dict[str, Any]:
    try:
        resolved = dict(stack.stack_parameters)
    except Exception:  # a stack whose resources never resolved (e.g. REVIEW_IN_PROGRESS) has none
        return {}
    return {k: v for k, v in resolved.items() if not k.startswith("AWS::")}


def _parameters(params: list[dict[str, Any]], stack: Any) -> dict[str, Any]:
    values = {}
    for param in params:
        key = param["ParameterKey"]
        if str(param.get("UsePreviousValue", "false")).lower() == "true":
            # The deployed values include template defaults, which moto keeps only in the resolved parameters.
            previous = {**_deployed_parameters(stack), **(stack.parameters or {})} if stack is not None else {}
            if key not in previous:
                raise ValidationError(
                    message=f"Invalid input for parameter key {key}. "
                    "Need to specify either usePreviousValue as true or a value for the parameter"
                )
            values[key] = previous[key]
        else:
            values[key] = param.get("ParameterValue")
    return values


def _template_body(self: Any, stack: Any) -> str:
    if self._get_bool_param("UsePreviousTemplate", False):
        if stack is None or not stack.template:
            raise ValidationError(message="UsePreviousTemplate needs an existing stack with a template")
        return stack.template
    url = self._get_param("TemplateURL")
    return self._get_stack_from_s3_url(url) if url else self._get_param("TemplateBody")


def create_change_set(self: Any) -> ActionResult:
    """Replacement for ``CloudFormationResponse.create_change_set``."""
    stack_name = self._get_param("StackName")
    change_set_type = self._get_param("ChangeSetType") or "UPDATE"
    backend = self.cloudformation_backend
    stack = find_stack(backend, stack_name)
    if change_set_type == "UPDATE" and stack is None:
        raise ValidationError(message=f"Stack [{stack_name}] does not exist")
    self.validate_template_and_stack_body()
    tags = {item["Key"]: item["Value"] for item in self._get_param("Tags", [])}
    try:
        change_set_id, stack_id = _create(self, backend, stack, stack_name, change_set_type, tags)
    except Exception:
        # AWS validates before it creates anything: a refused CREATE change set leaves no REVIEW_IN_PROGRESS stack.
        if stack is None:
            for key, candidate in list(backend.stacks.items()):
                if candidate.name == stack_name and candidate.status == "REVIEW_IN_PROGRESS":
                    del backend.stacks[key]
        raise
    return ActionResult({"Id": change_set_id, "StackId": stack_id})


def _create(self: Any, backend: Any, stack: Any, stack_name: str, change_set_type: str, tags: dict) -> tuple:
    return backend.create_change_set(
        stack_name=stack_name,
        change_set_name=self._get_param("ChangeSetName"),
        template=_template_body(self, stack),
        parameters=_parameters(self._get_param("Parameters", []), stack),
        description=self._get_param("Description"),
        notification_arns=self._get_param("NotificationARNs", []),
        tags=tags,
        role_arn=self._get_param("RoleARN"),
        change_set_type=change_set_type,
    )


def update_termination_protection(self: Any) -> ActionResult:
    """UpdateTerminationProtection (absent from moto)."""
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection", False)
    return ActionResult({"StackId": stack.stack_id})


def apply() -> None:
    responses.CloudFormationResponse.create_change_set = create_change_set
    responses.CloudFormationResponse.update_termination_protection = update_termination_protection
