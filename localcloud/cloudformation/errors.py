"""The errors the CloudFormation API answers with, by AWS error code (serialized by moto's query serializer).

Messages follow AWS's wording; each raise site names the case it covers.
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException


class ValidationError(ServiceException):
    code = "ValidationError"


class AlreadyExists(ServiceException):
    code = "AlreadyExistsException"


class InsufficientCapabilities(ServiceException):
    code = "InsufficientCapabilitiesException"


class ChangeSetNotFound(ServiceException):
    code = "ChangeSetNotFound"


class InvalidChangeSetStatus(ServiceException):
    code = "InvalidChangeSetStatus"


class TemplateError(ValidationError):
    """A template that cannot be read or has a structural error: "Template format error: ..."."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Template format error: {detail}")


def stack_missing(name: str) -> ValidationError:
    return ValidationError(f"Stack with id {name} does not exist")
