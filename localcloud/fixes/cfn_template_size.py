"""An inline template is limited to 51,200 bytes, as on AWS.

AWS behaviour: CreateStack, UpdateStack, CreateChangeSet and ValidateTemplate refuse a ``TemplateBody`` over
51,200 bytes with ValidationError ("Member must have length less than or equal to 51200"); a bigger template must
be uploaded to S3 and passed as ``TemplateURL`` (up to 1 MB).

moto gap (5.2.5, ``CloudFormationResponse``): any size is accepted, so a template that can never deploy inline
on AWS deploys locally.

Patches: ``CloudFormationResponse.create_stack``, ``update_stack``, ``create_change_set``, ``validate_template``
(wrapped: the size is checked first).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import responses
from moto.cloudformation.exceptions import ValidationError

INLINE_LIMIT = 51_200
OPERATIONS = ("create_stack", "update_stack", "create_change_set", "validate_template")


def check(body: str | None) -> None:
    if body is not None and len(body.encode()) > INLINE_LIMIT:
        raise ValidationError(
            message="1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
            f"Member must have length less than or equal to {INLINE_LIMIT}"
        )


def _limited(original: Any) -> Any:
    def operation(self: Any) -> Any:
        check(self._get_param("TemplateBody"))
        return original(self)

    return operation


def apply() -> None:
    for name in OPERATIONS:
        setattr(responses.CloudFormationResponse, name, _limited(getattr(responses.CloudFormationResponse, name)))
