"""The engine's state: stacks, their resources, change sets, operations and events, per account and region.

Plain data and lookups only: what the API describes and what the executor changes. Every change happens under
the region's lock; the executor's own thread and the request threads share these objects.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.utilities.utils import get_partition

from localcloud.cloudformation.errors import ChangeSetNotFound, ValidationError


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


_clock_lock = threading.Lock()
_last_tick = [now()]


def tick() -> datetime.datetime:
    """A timestamp later than every earlier one: clients stream events by timestamp and EventId."""
    with _clock_lock:
        stamp = max(now(), _last_tick[0] + datetime.timedelta(microseconds=1))
        _last_tick[0] = stamp
        return stamp


@dataclass
class Event:
    stack_id: str
    stack_name: str
    logical_id: str
    resource_type: str
    status: str
    physical_id: str = ""
    reason: str | None = None
    properties: str | None = None
    operation_id: str | None = None
    client_request_token: str | None = None  # the token of the request that started the operation
    timestamp: datetime.datetime = field(default_factory=tick)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Resource:
    """One deployed resource: what the template asked for (resolved) and what the provider answered."""

    logical_id: str
    resource_type: str
    body: dict[str, Any]
    properties: dict[str, Any]
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    status: str = "CREATE_IN_PROGRESS"
    reason: str | None = None
    updated: datetime.datetime = field(default_factory=now)


@dataclass
class Operation:
    """One run of the executor on a stack (DescribeEvents groups events by its id)."""

    action: str  # CREATE | UPDATE | DELETE | ROLLBACK | CONTINUE_ROLLBACK | CREATE_CHANGESET
    stack_id: str
    change_set_id: str | None = None
    operation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_request_token: str | None = None  # ClientRequestToken of the request that started it
    cancel_token: str | None = None  # CancelUpdateStack's, once accepted
    started: datetime.datetime = field(default_factory=now)
    ended: datetime.datetime | None = None
    status: str = "IN_PROGRESS"  # SUCCEEDED | FAILED
    thread: threading.Thread | None = None
    # CancelUpdateStack, or DeleteStack during a create, sets it; ``then`` runs once the operation has stopped
    cancel: threading.Event = field(default_factory=threading.Event)
    then: Callable[[], None] | None = None
    closed: bool = False
    _handover: threading.Lock = field(default_factory=threading.Lock)

    def hand_over(self, then: Callable[[], None]) -> bool:
        """Run ``then`` once this operation has stopped; False when it already has."""
        with self._handover:
            if not self.closed:
                self.then = then
            return not self.closed

    def close(self) -> Callable[[], None] | None:
        with self._handover:
            self.closed = True
            return self.then

    def finish(self, succeeded: bool) -> None:
        if self.ended is None:
            self.ended, self.status = now(), "SUCCEEDED" if succeeded else "FAILED"


@dataclass
class ChangeSet:
    change_set_id: str
    name: str
    stack_id: str
    stack_name: str
    change_set_type: str  # CREATE | UPDATE | IMPORT
    template_body: str
    template: dict[str, Any]
    parameters: dict[str, str]
    tags: list[dict[str, str]] | None
    description: str | None = None
    capabilities: list[str] = field(default_factory=list)
    notification_arns: list[str] = field(default_factory=list)
    role_arn: str | None = None
    on_stack_failure: str | None = None
    status: str = "CREATE_PENDING"
    execution_status: str = "UNAVAILABLE"
    status_reason: str | None = None
    changes: list[Any] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)  # pre-deployment validation (validate.Finding)
    created: datetime.datetime = field(default_factory=now)
    client_token: str | None = None  # CreateChangeSet's ClientToken
    # DeploymentMode REVERT_DRIFT: logical id -> top-level properties whose live value differs from the template's
    revert_drift: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Stack:
    stack_id: str
    name: str
    account_id: str
    region: str
    status: str = "REVIEW_IN_PROGRESS"
    reason: str | None = None
    template_body: str = ""
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    tags: list[dict[str, str]] = field(default_factory=list)
    resources: dict[str, Resource] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    notification_arns: list[str] = field(default_factory=list)
    role_arn: str | None = None
    disable_rollback: bool = False
    termination_protection: bool = False
    timeout_minutes: int | None = None
    change_set_id: str | None = None
    created: datetime.datetime = field(default_factory=now)
    updated: datetime.datetime | None = None
    deleted: datetime.datetime | None = None
    operation: Operation | None = None
    operations: list[Operation] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)  # the last CreateStack/UpdateStack's validation findings
    policy: str | None = None  # the stack policy's JSON text (SetStackPolicy, CreateStack's StackPolicyBody)
    rollback: Any = None  # in UPDATE_ROLLBACK_FAILED: what ContinueUpdateRollback resumes (operations._Before)

    @property
    def description(self) -> str | None:
        return self.template.get("Description")

    @property
    def busy(self) -> bool:
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"

    def record(
        self, logical_id: str, resource_type: str, status: str, physical_id: str | None = "", **kw: Any
    ) -> Event:
        event = Event(self.stack_id, self.name, logical_id, resource_type, status, physical_id or "", **kw)
        if self.operation is not None:
            event.operation_id = self.operation.operation_id
            event.client_request_token = self.operation.client_request_token
        self.events.append(event)
        return event

    def set_status(self, status: str, reason: str | None = None) -> Event:
        """Move the stack to ``status`` and record the stack's own event for it."""
        self.status, self.reason = status, reason
        return self.record(self.name, "AWS::CloudFormation::Stack", status, self.stack_id, reason=reason)

    def retried(self, action: str, token: str | None, change_set_id: str | None = None) -> Operation | None:
        """The earlier operation a request with this ClientRequestToken repeats, if any (API reference,
        ClientRequestToken: "Specify this token if you plan to retry requests so that CloudFormation knows that
        you're not attempting to create a stack with the same name")."""
        if not token:
            return None
        for operation in self.operations:
            same = operation.action == action and operation.client_request_token == token
            if same and (change_set_id is None or operation.change_set_id == change_set_id):
                return operation
        return None


@dataclass
class Export:
    name: str
    value: str
    stack_id: str


@dataclass
class Region:
    """One account's CloudFormation in one region."""

    account_id: str
    region: str
    stacks: dict[str, Stack] = field(default_factory=dict)  # by id, deleted ones included
    change_sets: dict[str, ChangeSet] = field(default_factory=dict)
    exports: dict[str, Export] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def arn(self, kind: str, name: str) -> str:
        partition = get_partition(self.region)
        return f"arn:{partition}:cloudformation:{self.region}:{self.account_id}:{kind}/{name}/{uuid.uuid4()}"

    def live(self, name_or_id: str) -> Stack | None:
        """The stack by name or id that is not deleted (a deleted stack is found only by its id)."""
        stack = self.stacks.get(name_or_id)
        if stack is not None:
            return stack
        return next((s for s in self.stacks.values() if s.name == name_or_id and s.deleted is None), None)

    def stack(self, name_or_id: str) -> Stack:
        stack = self.live(name_or_id)
        if stack is None:
            raise ValidationError(f"Stack with id {name_or_id} does not exist")
        return stack

    def change_set(self, name_or_id: str, stack_name: str | None) -> ChangeSet:
        found = self.change_sets.get(name_or_id)
        if found is None and stack_name:
            stack = self.live(stack_name)
            found = next(
                (
                    c
                    for c in self.change_sets.values()
                    if c.name == name_or_id and stack is not None and c.stack_id == stack.stack_id
                ),
                None,
            )
        if found is None:
            raise ChangeSetNotFound(f"ChangeSet [{name_or_id}] does not exist")
        return found


def change_set_operation_id(change_set_id: str) -> str:
    """The OperationId of a change set's creation, stable for the change set's life."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{change_set_id}#CREATE_CHANGESET"))


_regions: dict[tuple[str, str], Region] = {}
_regions_lock = threading.Lock()


def region(account_id: str, region_name: str) -> Region:
    with _regions_lock:
        key = (account_id, region_name)
        if key not in _regions:
            _regions[key] = Region(account_id, region_name)
        return _regions[key]


def all_regions() -> list[Region]:
    with _regions_lock:
        return list(_regions.values())


def reset() -> None:
    """Forget every stack (the local cloud's reset: moto's backends are emptied at the same time)."""
    with _regions_lock:
        _regions.clear()
