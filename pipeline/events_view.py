"""Stack events as they arrive: a live table on a terminal, aligned lines elsewhere, then a summary.

On a terminal each resource has one row that changes in place: a spinner while it is in progress, its current
status, the time it has taken, and the reason CloudFormation gave. In plain mode each event is one line, with
the logical id and type padded to columns sized from the change set, so lines stay aligned and nothing
overflows into the next column. Held for a terminal (``pipeline.console``), it says each event through
``note`` and prints nothing for it, as the transient live table leaves nothing behind. Either way, when the
stack settles a summary table gives each resource's duration (from its events) and the stack's total.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from pipeline import console as consoles
from pipeline import timeline

MIN_ID_WIDTH, MIN_TYPE_WIDTH, MAX_WIDTH = 20, 28, 40


def status_style(status: str) -> str:
    if status.endswith("_FAILED") or "ROLLBACK" in status:
        return "bold red" if status.endswith("_FAILED") else "yellow"
    if status.endswith("_IN_PROGRESS"):
        return "cyan"
    return "dim" if status.startswith("DELETE") else "green"


def clock(stamp: Any) -> str:
    return stamp.strftime("%H:%M:%S") if isinstance(stamp, datetime) else str(stamp or "")


def event_line(event: dict[str, Any], id_width: int = MIN_ID_WIDTH, type_width: int = MIN_TYPE_WIDTH) -> str:
    """``08:30:01  UploadsBucket         AWS::S3::Bucket             CREATE_COMPLETE  (reason)``."""
    text = f"{clock(event.get('Timestamp'))}  {event.get('LogicalResourceId', ''):<{id_width}}  "
    text += f"{event.get('ResourceType', ''):<{type_width}}  {event.get('ResourceStatus', '')}"
    reason = event.get("ResourceStatusReason")
    return f"{text}  ({reason})" if reason else text


def is_stack_event(event: dict[str, Any]) -> bool:
    return event.get("PhysicalResourceId") == event.get("StackId") and bool(event.get("StackId"))


@dataclass
class Row:
    resource_type: str
    status: str
    reason: str
    first: datetime
    last: datetime
    seen_at: float = field(default_factory=time.monotonic)  # our clock, for the elapsed time while in progress
    spinner: Spinner = field(default_factory=lambda: Spinner("dots"))

    def elapsed(self) -> float:
        if self.status.endswith("_IN_PROGRESS"):
            return time.monotonic() - self.seen_at
        return (self.last - self.first).total_seconds()


class EventView:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.widths = [MIN_ID_WIDTH, MIN_TYPE_WIDTH]
        self.rows: dict[str, Row] = {}
        self.events: list[dict[str, Any]] = []  # this operation's, for the summary
        self.lock = threading.Lock()
        self.live: Live | None = None

    def expect(self, resources: Iterable[tuple[str, str]]) -> None:
        """Size the plain columns from the resources about to change, before the first event."""
        for logical_id, resource_type in resources:
            self._widen(logical_id, resource_type)

    def _widen(self, logical_id: str, resource_type: str) -> None:
        self.widths = [
            min(MAX_WIDTH, max(self.widths[0], len(logical_id))),
            min(MAX_WIDTH, max(self.widths[1], len(resource_type))),
        ]

    def add(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.events.append(event)
            self._record(event)
        if consoles.animates(self.console):
            self._start_live()
        elif self.console.is_terminal:  # held for a terminal, where this view is transient: only say it
            consoles.note(f"{event.get('LogicalResourceId', '')}  {event.get('ResourceStatus', '')}")
        else:
            self.console.print(event_line(event, *self.widths))
        if is_stack_event(event) and not event.get("ResourceStatus", "").endswith("_IN_PROGRESS"):
            self.finish(event)

    def _record(self, event: dict[str, Any]) -> None:
        logical_id, stamp = event.get("LogicalResourceId", ""), event["Timestamp"]
        row = self.rows.get(logical_id)
        status, reason = event.get("ResourceStatus", ""), event.get("ResourceStatusReason", "")
        if row is None:
            self.rows[logical_id] = Row(event.get("ResourceType", ""), status, reason, stamp, stamp)
        else:
            row.status, row.reason, row.last = status, reason, stamp

    def _start_live(self) -> None:
        if self.live is None:
            self.live = Live(self, console=self.console, refresh_per_second=8, transient=True)
            self.live.start()

    def __rich__(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0))
        for name, kwargs in (("", {"no_wrap": True}), ("id", {}), ("type", {}), ("status", {}), ("t", {})):
            table.add_column(name, overflow="fold", **kwargs)
        table.add_column("reason", overflow="fold", ratio=1)
        with self.lock:
            rows = list(self.rows.items())
        for logical_id, row in rows:
            style = status_style(row.status)
            icon = row.spinner if row.status.endswith("_IN_PROGRESS") else Text("✗" if "FAILED" in row.status else "✓")
            table.add_row(
                icon, logical_id, row.resource_type, Text(row.status, style=style), f"{row.elapsed():.1f}s", row.reason
            )
        return table

    def finish(self, stack_event: dict[str, Any]) -> None:
        """The stack settled: end the live view and print the summary of this operation."""
        self.close()
        with self.lock:
            events, self.events, self.rows = self.events, [], {}
        consoles.show(self.console, summary(events, stack_event, self.console.is_terminal))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def summary(events: list[dict[str, Any]], stack_event: dict[str, Any], styled: bool) -> Group:
    spans = timeline.spans(events)
    stack_name = stack_event.get("LogicalResourceId", "")
    table = Table(title=None, box=None, pad_edge=False, padding=(0, 2, 0, 0), header_style="bold" if styled else None)
    for column in ("Resource", "Type", "Status", "Seconds"):
        table.add_column(column, overflow="fold", justify="right" if column == "Seconds" else "left")
    for span in spans:
        if span.logical_id != stack_name:
            status = Text(span.status, status_style(span.status))
            table.add_row(span.logical_id, span.resource_type, status, f"{span.seconds:.1f}")
    whole = next((s for s in spans if s.logical_id == stack_name), None)
    took = f"took {whole.seconds:.1f} s" if whole else "done"
    status = stack_event.get("ResourceStatus", "")
    line = Text(f"{status}: {took} for {len(spans) - bool(whole)} resources.", status_style(status))
    return Group(table, line)
