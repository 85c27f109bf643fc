"""The function's log events: tailing them each once (``aws logs tail`` style, polling FilterLogEvents), and
reading each into a ``Record`` (time, level, message, request id) from either of Lambda's log formats.

Lambda writes text lines (``[INFO]\t<time>\t<request id>\t<message>``, ``START RequestId: …``) or, with
``LogFormat: JSON``, one JSON object per line (``{"level", "message", "requestId"}``, ``{"type":
"platform.report", "record": {…}}``). Reading never fails: a line in neither shape is a plain message.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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


class Tailer:
    """Polls a log group for events not seen before, oldest first (one poll per ``poll()``)."""

    def __init__(self, logs, group: str, start_ms: int, pattern: str | None = None) -> None:
        self.logs, self.group, self.start_ms, self.pattern = logs, group, start_ms, pattern
        self.cursor = start_ms
        self.seen: dict[str, int] = {}  # eventId -> timestamp, for the look-back window only

    def poll(self) -> list[dict[str, Any]]:
        fresh = _since(self.logs, self.group, self.cursor, self.seen, self.pattern)
        for event in fresh:
            self.seen[event["eventId"]] = event["timestamp"]
        if fresh:
            # Ingestion is not in timestamp order: look back a little each poll, and let `seen` drop repeats.
            self.cursor = max(self.start_ms, fresh[-1]["timestamp"] - LOOKBACK_MS)
            self.seen = {event_id: stamp for event_id, stamp in self.seen.items() if stamp >= self.cursor}
        return fresh


def tail(
    logs,
    group: str,
    start_ms: int,
    follow: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 2.0,
    pattern: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield events oldest first from ``start_ms``; with ``follow``, keep polling until interrupted.

    ``pattern`` is a CloudWatch Logs filter pattern, applied by FilterLogEvents.
    """
    tailer = Tailer(logs, group, start_ms, pattern)
    while True:
        yield from tailer.poll()
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


def _since(logs, group: str, start_ms: int, seen: dict[str, int], pattern: str | None) -> list[dict[str, Any]]:
    try:
        events = filter_all(
            logs, logGroupName=group, startTime=start_ms, **({"filterPattern": pattern} if pattern else {})
        )
    except botocore.exceptions.ClientError as exc:
        if cfn.error_code(exc) == "ResourceNotFoundException":
            raise UserError(
                f"Log group {group} does not exist yet. It is created with the stack; run `invoke deploy`."
            ) from exc
        if cfn.error_code(exc) == "InvalidParameterException" and pattern:
            raise UserError(
                f"CloudWatch Logs rejected the filter pattern {pattern!r}: {cfn.error_message(exc)} {PATTERN_HELP}"
            ) from exc
        raise
    fresh = [e for e in events if e["eventId"] not in seen]
    fresh.sort(key=lambda e: (e["timestamp"], e["eventId"]))
    return fresh


PATTERN_HELP = (
    'Use CloudWatch Logs filter pattern syntax: a term (ERROR), a quoted phrase ("object created"), terms to '
    "match all of (ERROR timeout), ?A ?B for either, -term to exclude, or a JSON pattern such as "
    "'{ $.level = \"ERROR\" }'. See https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html"
)
PAIRS = {"{": "}", "[": "]", "(": ")"}


def check_pattern(pattern: str) -> str:
    """Refuse a pattern whose quotes or brackets do not close, before any call (CloudWatch refuses it too)."""
    stack: list[str] = []
    quoted = False
    for index, char in enumerate(pattern):
        if char == '"' and (index == 0 or pattern[index - 1] != "\\"):
            quoted = not quoted
        elif quoted:
            continue
        elif char in PAIRS:
            stack.append(PAIRS[char])
        elif char in PAIRS.values() and (not stack or stack.pop() != char):
            raise UserError(f"--filter {pattern!r}: {char!r} at position {index + 1} closes nothing. {PATTERN_HELP}")
    if quoted:
        raise UserError(f"--filter {pattern!r}: a '\"' is not closed. {PATTERN_HELP}")
    if stack:
        raise UserError(f"--filter {pattern!r}: {stack[-1]!r} is missing at the end. {PATTERN_HELP}")
    return pattern


# -- reading a record ----------------------------------------------------------------------------------------
TEXT_RECORD = re.compile(r"^\[(?P<level>[A-Z]+)\]\t(?P<time>\S+)\t(?P<rid>[0-9a-f-]{36})\t(?P<message>.*)$", re.S)
TEXT_ERROR = re.compile(r"^\[(?P<level>ERROR|CRITICAL|FATAL)\] (?P<message>.*)$", re.S)
PLATFORM_TEXT = re.compile(r"^(?P<kind>START|END|REPORT|INIT_START|INIT_REPORT)(?: RequestId: (?P<rid>[0-9a-f-]{36}))?")
TIMED_OUT = re.compile(r"^\S+ (?P<rid>[0-9a-f-]{36}) (?P<message>Task timed out.*)$", re.S)
REPORT_FIELD = re.compile(
    r"(?:^|\t)(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration|Status|Error Type): ([^\t]+)"
)
ERROR_LEVELS = {"ERROR", "CRITICAL", "FATAL"}


@dataclass(frozen=True)
class Record:
    timestamp_ms: int
    level: str  # INFO, WARNING, ERROR, …; "" for a line without one; "PLATFORM" for Lambda's own records
    message: str
    request_id: str = ""
    platform: str = ""  # start, end, report, initStart, … for Lambda's own records
    fields: dict[str, str] = field(default_factory=dict)  # a report's metrics, by the names Lambda prints

    @property
    def is_error(self) -> bool:
        return self.level in ERROR_LEVELS or self.fields.get("Status", "success") not in ("success", "")


def read(event: dict[str, Any]) -> Record:
    """One FilterLogEvents event as a Record."""
    message, stamp = event.get("message", "").rstrip("\n"), int(event.get("timestamp", 0))
    try:
        data = json.loads(message)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return _read_json(data, stamp, message)
    return _read_text(message, stamp)


def _read_json(data: dict[str, Any], stamp: int, message: str) -> Record:
    kind = str(data.get("type", ""))
    if kind.startswith("platform."):
        record = data.get("record") or {}
        metrics = record.get("metrics") or {}
        fields = {
            "Duration": _ms(metrics.get("durationMs")),
            "Billed Duration": _ms(metrics.get("billedDurationMs")),
            "Memory Size": _mb(metrics.get("memorySizeMB")),
            "Max Memory Used": _mb(metrics.get("maxMemoryUsedMB")),
            "Init Duration": _ms(metrics.get("initDurationMs")),
            "Status": str(record.get("status", "")),
            "Error Type": str(record.get("errorType", "")),
        }
        fields = {k: v for k, v in fields.items() if v}
        return Record(stamp, "PLATFORM", kind, str(record.get("requestId", "")), kind.split(".", 1)[1], fields)
    if "errorMessage" in data:  # an uncaught exception, as the runtime reports it
        text = f"{data.get('errorType', 'Error')}: {data.get('errorMessage')}"
        trace = data.get("stackTrace") or []
        text += "".join("\n" + str(line).rstrip("\n") for line in trace)
        return Record(stamp, "ERROR", text, str(data.get("requestId", "")))
    level = str(data.get("level", "")).upper()
    rid = str(data.get("requestId") or data.get("request_id") or "")
    return Record(stamp, level, str(data.get("message", message)), rid)


def _ms(value: Any) -> str:
    return f"{value} ms" if value not in (None, "") else ""


def _mb(value: Any) -> str:
    return f"{value} MB" if value not in (None, "") else ""


def _read_text(message: str, stamp: int) -> Record:
    if match := TEXT_RECORD.match(message):
        return Record(stamp, match["level"], match["message"], match["rid"])
    if match := PLATFORM_TEXT.match(message):
        kind = {"INIT_START": "initStart", "INIT_REPORT": "initReport"}.get(match["kind"], match["kind"].lower())
        fields = dict(REPORT_FIELD.findall(message)) if kind in ("report", "initReport") else {}
        return Record(stamp, "PLATFORM", message, match["rid"] or "", kind, fields)
    if match := TIMED_OUT.match(message):
        return Record(stamp, "ERROR", match["message"], match["rid"])
    if match := TEXT_ERROR.match(message):
        return Record(stamp, match["level"], match["message"])
    return Record(stamp, "", message)
