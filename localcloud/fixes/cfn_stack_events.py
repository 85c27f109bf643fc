"""Stack events as CloudFormation records them: one per resource step, strictly ordered.

AWS behaviour: every resource gets its own events (``CREATE_IN_PROGRESS`` / ``CREATE_COMPLETE`` /
``CREATE_FAILED`` with a ``ResourceStatusReason``, likewise ``UPDATE_*`` and ``DELETE_*``) next to the stack's
own, and DescribeStackEvents lists them newest first with unique EventIds, so a deploy tool can stream them by
timestamp and EventId.

moto gap: moto only records the stack's own events, and two events created in the same microsecond share a
timestamp, which breaks "everything after this marker" streaming.

Patches: ``moto.cloudformation.models.Event.__init__`` (timestamps made strictly increasing). The resource events
themselves are written by the deploy engine (``cfn_deploy``/``cfn_update``) through ``resource_event``.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

from moto.cloudformation import models as cfn_models

_lock = threading.Lock()
_last: list[datetime.datetime] = []
_TICK = datetime.timedelta(microseconds=1)


def resource_event(
    stack: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str = "",
    reason: str | None = None,
) -> None:
    """Record (and publish to the stack's SNS topics) one event for one resource of ``stack``."""
    event = cfn_models.Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id or "",
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=None,
    )
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    stack.events.append(event)


def stack_event(stack: Any, status: str, reason: str | None = None) -> None:
    """Record an event for the stack itself and move the stack to that status."""
    stack.status = status
    stack._add_stack_event(status, resource_status_reason=reason)


def _monotonic_init(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        # Streaming clients keep "the newest timestamp seen"; equal timestamps would hide or repeat events.
        with _lock:
            if _last and self.timestamp <= _last[0]:
                self.timestamp = _last[0] + _TICK
            _last[:] = [self.timestamp]

    return __init__


def apply() -> None:
    cfn_models.Event.__init__ = _monotonic_init(cfn_models.Event.__init__)
