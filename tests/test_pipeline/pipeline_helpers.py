"""Small helpers for the pipeline tests (kept in a module so tests can import them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class CallCount:
    count: int = 0


@contextlib.contextmanager
def count_calls(client, operation: str) -> Iterator[CallCount]:
    """Count the calls a boto3 client makes to one operation, through botocore's own event hooks."""
    counter = CallCount()
    service = client.meta.service_model.service_name

    def seen(**_kwargs):
        counter.count += 1

    event = f"before-call.{service}.{operation}"
    client.meta.events.register(event, seen)
    try:
        yield counter
    finally:
        client.meta.events.unregister(event, seen)
