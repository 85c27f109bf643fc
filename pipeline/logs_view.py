"""How ``invoke logs`` shows records: one aligned line each with time, level, request id and message.

Lambda's own START and END lines are left out and its REPORT becomes one compact line per invocation, so an
invocation reads as its own lines followed by a summary. Errors (ERROR records, uncaught exceptions, time-outs,
failed reports) are red on a terminal. ``--json`` bypasses all of this and prints the raw records.
"""

from __future__ import annotations

import time

from rich.text import Text

from pipeline.logs import Record

HIDDEN_PLATFORM = {"start", "end", "runtimeDone"}
LEVEL_STYLE = {"WARNING": "yellow", "WARN": "yellow", "DEBUG": "dim", "PLATFORM": "dim"}
REQUEST_ID_WIDTH = 36


def clock(timestamp_ms: int) -> str:
    """UTC, to the millisecond, as Lambda stamps its own lines."""
    return time.strftime("%H:%M:%S", time.gmtime(timestamp_ms / 1000)) + f".{timestamp_ms % 1000:03d}"


def shown(record: Record) -> bool:
    return record.platform not in HIDDEN_PLATFORM


def compact_report(record: Record) -> str:
    """``REPORT 1.23 ms (billed 2 ms), 40 of 128 MB, init 120.00 ms`` from a report's fields."""
    f = record.fields
    text = f"{'REPORT' if record.platform == 'report' else 'INIT_REPORT'} {f.get('Duration', '?')}"
    if "Billed Duration" in f:
        text += f" (billed {f['Billed Duration']})"
    if "Max Memory Used" in f:
        text += f", {f['Max Memory Used']} of {f.get('Memory Size', '?')}"
    if "Init Duration" in f:
        text += f", init {f['Init Duration']}"
    if f.get("Status", "success") != "success":
        text += f", status {f['Status']}" + (f" ({f['Error Type']})" if f.get("Error Type") else "")
    return text


def message_of(record: Record) -> str:
    if record.platform in ("report", "initReport"):
        return compact_report(record)
    if record.platform == "initStart":
        return "INIT_START cold start of a new execution environment"
    return record.message


def line(record: Record) -> Text:
    """The record as one line (continuation lines of a multi-line message are indented under the message)."""
    level = "" if record.level == "PLATFORM" else record.level
    prefix = f"{clock(record.timestamp_ms)}  {level:<7}  {record.request_id:<{REQUEST_ID_WIDTH}}  "
    body = message_of(record).replace("\n", "\n" + " " * len(prefix))
    style = "bold red" if record.is_error else LEVEL_STYLE.get(record.level, "")
    text = Text(prefix, style="dim")
    text.append(body, style=style)
    return text


def empty_window(group: str, since: str, pattern: str | None, request_id: str | None) -> str:
    what = " matching" + (f" --filter {pattern!r}" if pattern else "") if pattern or request_id else ""
    if request_id:
        what += f"{' and' if pattern else ''} --request-id {request_id}"
    return f"No log events in {group} in the last {since}{what}. Widen --since, or upload an object to invoke it."
