"""Tailing the function's log group, each event once (``aws logs tail`` style, polling FilterLogEvents)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.exceptions

from pipeline import cfn
from pipeline.errors import UserError

SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LOOKBACK_MS = 10_000  # events may land a few seconds after later-stamped ones


def parse_since(text: str) -> int:
    """``10m`` -> 600 seconds. Accepts s, m, h, d, w."""
    match = SINCE.match(text.strip())
    if not match:
        raise UserError(f"--since {text!r} is not a duration. Use a number and a unit, such as 30s, 10m, 2h or 1d.")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


def tail(
    logs,
    group: str,
    start_ms: int,
    follow: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 2.0,
) -> Iterator[dict[str, Any]]:
    """Yield events oldest first from ``start_ms``; with ``follow``, keep polling until interrupted."""
    seen: dict[str, int] = {}  # eventId -> timestamp, for the look-back window only
    cursor = start_ms
    while True:
        fresh = _since(logs, group, cursor, seen)
        for event in fresh:
            seen[event["eventId"]] = event["timestamp"]
            yield event
        if fresh:
            # Ingestion is not in timestamp order: look back a little each poll, and let `seen` drop repeats.
            cursor = max(start_ms, fresh[-1]["timestamp"] - LOOKBACK_MS)
            seen = {event_id: stamp for event_id, stamp in seen.items() if stamp >= cursor}
        if not follow:
            return
        sleep(interval)


def filter_all(logs, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of FilterLogEvents: CloudWatch may return empty or partial pages along with a nextToken."""
    events, token = [], None
    while True:
        page = logs.filter_log_events(**kwargs, **({"nextToken": token} if token else {}))
        events.extend(page.get("events", []))
        token = page.get("nextToken")
        if not token:
            return events


def _since(logs, group: str, start_ms: int, seen: dict[str, int]) -> list[dict[str, Any]]:
    try:
        events = filter_all(logs, logGroupName=group, startTime=start_ms)
    except botocore.exceptions.ClientError as exc:
        if cfn.error_code(exc) == "ResourceNotFoundException":
            raise UserError(
                f"Log group {group} does not exist yet. It is created with the stack; run `invoke deploy`."
            ) from exc
        raise
    fresh = [e for e in events if e["eventId"] not in seen]
    fresh.sort(key=lambda e: (e["timestamp"], e["eventId"]))
    return fresh
