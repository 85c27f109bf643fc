"""Change sets with CloudFormation's lifecycle: CREATE vs UPDATE, empty change sets, and execution.

AWS behaviour:
- ``ChangeSetType`` CREATE makes a new stack in ``REVIEW_IN_PROGRESS`` (or reuses one still in review); on an
  existing stack it is a ValidationError. UPDATE (the default) needs a stack that can be updated: not
  ``ROLLBACK_COMPLETE``, not in review, not mid-operation.
- A change set that changes nothing ends ``FAILED`` with StatusReason "The submitted information didn't contain
  changes. Submit different information to create a change set." and ExecutionStatus ``UNAVAILABLE``.
- ExecuteChangeSet runs only an ``AVAILABLE`` change set. It deploys the change set's template, parameters and
  tags: the stack's Outputs, Parameters, Tags and GetTemplate then reflect it (a CREATE change set keeps its
  Outputs), and ExecutionStatus ends ``EXECUTE_COMPLETE`` (``EXECUTE_FAILED`` when the stack rolled back).

moto gap: moto compares template text for emptiness, loses a CREATE change set's Outputs (the stack object keeps
its empty template's maps), executes unavailable change sets, and marks a failed deploy complete.

Patches: ``CloudFormationBackend.create_change_set`` and ``CloudFormationBackend.execute_change_set``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation.exceptions import ValidationError

from localcloud.fixes.cfn_deploy import find_stack, register_exports
from localcloud.fixes.cfn_stack_events import stack_event
from localcloud.fixes.cfn_stack_guards import check_stack_name, check_updatable, effective_parameters

NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


class InvalidChangeSetStatus(ValidationError):
    code = "InvalidChangeSetStatus"


def _review_stack(backend: Any, stack_name: str, change_set_name: str, kwargs: dict[str, Any]) -> Any:
    """The stack a CREATE change set belongs to: a new one in REVIEW_IN_PROGRESS, or the one still in review."""
    existing = find_stack(backend, stack_name)
    if existing is not None:
        if existing.status == "REVIEW_IN_PROGRESS":
            return existing
        raise ValidationError(
            message=f"Stack [{stack_name}] already exists and cannot be created again with the changeSet "
            f"[{change_set_name}]."
        )
    check_stack_name(stack_name)
    stack_id = cfn_models.generate_stack_id(stack_name, backend.region_name, backend.account_id)
    stack = cfn_models.Stack(
        stack_id=stack_id,
        name=stack_name,
        template={},
        parameters={},
        account_id=backend.account_id,
        region_name=backend.region_name,
        **kwargs,
    )
    backend.stacks[stack_id] = stack
    stack_event(stack, "REVIEW_IN_PROGRESS", "User Initiated")
    return stack


def _is_empty(change_set: Any, stack: Any) -> bool:
    if change_set.change_set_type != "UPDATE" or change_set.changes:
        return False
    same_template = stack.template_dict == change_set.template_dict
    same_params = effective_parameters(stack.template_dict, stack.parameters) == effective_parameters(
        change_set.template_dict, change_set.parameters
    )
    same_tags = not change_set.tags or change_set.tags == stack.tags
    return same_template and same_params and same_tags


def create_change_set(
    self: Any,
    stack_name: str,
    change_set_name: str,
    template: str,
    parameters: dict[str, str],
    description: str,
    change_set_type: str,
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
) -> tuple[str, str]:
    """Replacement for ``CloudFormationBackend.create_change_set``."""
    cfn_models.validate_create_change_set(change_set_name)
    options = {"notification_arns": notification_arns, "tags": tags, "role_arn": role_arn}
    if change_set_type == "CREATE":
        stack = _review_stack(self, stack_name, change_set_name, options)
    else:
        stack = find_stack(self, stack_name)
        if stack is None:
            raise ValidationError(message=f"Stack [{stack_name}] does not exist")
        check_updatable(stack)
    change_set_id = cfn_models.generate_changeset_id(change_set_name, self.region_name, self.account_id)
    change_set = cfn_models.ChangeSet(
        change_set_type=change_set_type,
        change_set_id=change_set_id,
        change_set_name=change_set_name,
        stack=stack,
        template=template,
        parameters=parameters,
        description=description,
        **options,
    )
    if _is_empty(change_set, stack):
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = NO_CHANGES
    else:
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"
    self.change_sets[change_set_id] = change_set
    return change_set_id, stack.stack_id


def _find_change_set(backend: Any, change_set_name: str, stack_name: str | None) -> Any:
    if change_set_name in backend.change_sets:
        return backend.change_sets[change_set_name]
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == change_set_name and stack_name in (
            None,
            change_set.stack_name,
            change_set.stack_id,
        ):
            return change_set
    raise ValidationError(message=f"ChangeSet [{change_set_name}] does not exist")


def _execute_create(backend: Any, stack: Any, change_set: Any) -> None:
    stack.template = change_set.template
    stack._parse_template()
    stack.parameters = change_set.parameters
    stack.tags = change_set.tags or {}
    stack.description = stack.template_dict.get("Description")
    stack.resource_map = stack._create_resource_map()
    stack.output_map = stack._create_output_map()
    stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
    stack.create_resources()
    if stack.status == "CREATE_COMPLETE":
        register_exports(backend, stack)


def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """Replacement for ``CloudFormationBackend.execute_change_set``."""
    change_set = _find_change_set(self, change_set_name, stack_name)
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution status "
            f"of [{change_set.execution_status}]"
        )
    stack = self.stacks[change_set.stack_id]
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    if change_set.change_set_type == "CREATE":
        _execute_create(self, stack, change_set)
    else:
        check_updatable(stack)
        stack.update(change_set.template, change_set.role_arn, change_set.parameters, change_set.tags or None)
    succeeded = stack.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    change_set.execution_status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
    # As in AWS, executing one change set makes the stack's other pending change sets obsolete.
    for other in self.change_sets.values():
        if other.stack_id == stack.stack_id and other is not change_set and other.execution_status == "AVAILABLE":
            other.execution_status = "OBSOLETE"


def apply() -> None:
    cfn_models.CloudFormationBackend.create_change_set = create_change_set
    cfn_models.CloudFormationBackend.execute_change_set = execute_change_set
