"""The resource provider contract: CloudFormation's own handler model (create / update / delete, each answering
with a progress event), shared by every provider in this package and by ``custom.py``.

Providers run on the engine's execution thread (never a request thread), so they may block. A provider answers
FAILED with the message CloudFormation shows as the resource's ResourceStatusReason; an exception it raises is
turned into the same by the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class ResourceRequest:
    logical_id: str
    resource_type: str
    properties: dict
    previous_properties: dict | None
    physical_id: str | None
    stack_id: str
    stack_name: str
    region: str
    account_id: str
    endpoint: str  # the local cloud's own base URL, e.g. http://127.0.0.1:4566


@dataclass
class ProgressEvent:
    status: str  # "SUCCESS" | "FAILED"
    physical_id: str | None = None
    attributes: dict = field(default_factory=dict)  # what Fn::GetAtt can read
    message: str = ""  # the ResourceStatusReason on FAILED


class ResourceProvider(Protocol):
    def create(self, request: ResourceRequest) -> ProgressEvent: ...

    def update(self, request: ResourceRequest) -> ProgressEvent: ...

    def delete(self, request: ResourceRequest) -> ProgressEvent: ...


def success(physical_id: str | None, attributes: dict | None = None) -> ProgressEvent:
    return ProgressEvent("SUCCESS", physical_id, dict(attributes or {}))


def failed(message: str) -> ProgressEvent:
    return ProgressEvent("FAILED", message=message)
