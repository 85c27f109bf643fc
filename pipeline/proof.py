"""Reading verify's proof out of log events: pure functions, no I/O.

Given the function's log events since the marker was uploaded, ``judge`` says whether the invocation that logged
the marker finished successfully, on which version of the code (the ``artifact`` digest the handler puts on its
line), or failed. It also fails fast on an invocation that started after the upload and failed without logging
the marker (an init error, a raise before logging, a timeout): that one most likely received the marker, and
waiting for the timeout would only hide the error for two more minutes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

REQUEST_ID = re.compile(r"RequestId:?\s*\"?([0-9a-f-]{36})", re.IGNORECASE)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
ARTIFACT = re.compile(r"\bartifact=([0-9a-f]{64}|unknown)\b")
# An invocation must have started at or after the upload to count as "after the upload". The upload time is read
# before PutObject and S3 invokes only after it, so no slack is needed; a retry of an older event (its first
# attempt moments before a quick rollback's upload) must never count. If our clock runs ahead of CloudWatch's,
# fail-fast may miss an invocation and verify then ends at its timeout instead: slower, never wrong.
START_SLACK_MS = 0

# What an invocation's failure looks like in its log lines (JSON and text formats, handler and platform lines).
ERROR_MARKERS = (
    '"errorMessage"',
    '"level": "ERROR"',
    '"level":"ERROR"',
    "[ERROR]",
    "Task timed out",
    '"status":"error"',
    '"status":"failure"',
    '"status":"timeout"',
    "Status: error",
    "Status: timeout",
)


def _record(message: str) -> dict[str, Any] | None:
    try:
        record = json.loads(message)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def request_id_of(message: str, exclude: str = "") -> str | None:
    """The request id of a JSON record (``requestId``) or a text line (``RequestId: …`` or a tab-separated id)."""
    record = _record(message)
    if record is not None:
        found = record.get("requestId") or record.get("request_id") or record.get("aws_request_id")
        inner = record.get("record")
        if not found and isinstance(inner, dict):
            found = inner.get("requestId")
        if found:
            return str(found)
    match = REQUEST_ID.search(message)
    if match:
        return match.group(1)
    # Text-format application lines: "[INFO]\t<time>\t<request id>\t<message>" (skip the marker's own uuid).
    ids = [m for m in UUID.findall(message) if m != exclude]
    return ids[0] if ids and "\t" in message else None


def artifact_of(message: str) -> str | None:
    """The artifact digest the handler logged on this line, or None if the line carries none."""
    record = _record(message)
    if record is not None and isinstance(record.get("artifact"), str):
        return record["artifact"]
    match = ARTIFACT.search(message)
    return match.group(1) if match else None


def is_error_line(message: str) -> bool:
    return any(marker in message for marker in ERROR_MARKERS)


def is_success_report(message: str, request_id: str) -> bool:
    """Lambda's end-of-invocation line for this request, saying it succeeded."""
    if message.startswith(f"REPORT RequestId: {request_id}"):
        return "Status: " not in message
    return '"type":"platform.report"' in message and '"status":"success"' in message and request_id in message


@dataclass(frozen=True)
class LogMatch:
    message: str
    request_id: str | None
    timestamp_ms: int
    stream: str
    artifact: str | None = None


@dataclass
class Proof:
    """What the logs showed: the handler's line, whether its invocation finished, and how it failed if it did."""

    match: LogMatch | None = None
    finished: bool = False
    failure_lines: list[str] = field(default_factory=list)
    failed_request_id: str | None = None  # set when the failure is an invocation that did not log the marker
    wrong_artifact: str | None = None  # the digest the marker's line carried, when it is not the expected one

    @property
    def version_ok(self) -> bool:
        return self.wrong_artifact is None

    @property
    def succeeded(self) -> bool:
        return self.match is not None and self.finished and not self.failure_lines and self.version_ok

    @property
    def decided(self) -> bool:
        """Nothing later in the log can change the outcome."""
        return self.succeeded or bool(self.failure_lines) or (self.finished and not self.version_ok)


def _sorted(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: (e["timestamp"], e.get("eventId", "")))


def _text(event: dict[str, Any]) -> str:
    return event["message"].rstrip("\n")


def invocations(events: list[dict[str, Any]], token: str = "") -> dict[str, list[dict[str, Any]]]:
    """Events per request id, oldest first. A line without an id (an init error) joins the next invocation of its
    stream; lines of a stream that never saw an id stay together under the stream's name."""
    found: dict[str, list[dict[str, Any]]] = {}
    pending: dict[str, list[dict[str, Any]]] = {}
    for event in _sorted(events):
        stream = event.get("logStreamName", "")
        rid = request_id_of(event["message"], exclude=token)
        if rid is None:
            pending.setdefault(stream, []).append(event)
            continue
        found.setdefault(rid, []).extend(pending.pop(stream, []))
        found[rid].append(event)
    for stream, lines in pending.items():
        found.setdefault(f"stream:{stream}", []).extend(lines)
    return found


def judge(events: list[dict[str, Any]], token: str, uploaded_ms: int, expected_artifact: str | None = None) -> Proof:
    """The proof the events give for the marker ``token`` (a pure function of what is in the log so far)."""
    events = _sorted(events)
    good = [e for e in events if token in e["message"] and not is_error_line(e["message"])]
    if good:
        return _follow(events, good[0], token, expected_artifact)
    proof = Proof()
    errors = [_text(e) for e in events if token in e["message"]]
    if errors:
        proof.failure_lines = errors  # the function saw the marker and failed on it
        return proof
    return _failed_after_upload(invocations(events, token), uploaded_ms, proof)


def _follow(events: list[dict[str, Any]], first: dict[str, Any], token: str, expected: str | None) -> Proof:
    message = _text(first)
    rid = request_id_of(message, exclude=token)
    artifact = artifact_of(message)
    proof = Proof(LogMatch(message, rid, first["timestamp"], first.get("logStreamName", ""), artifact))
    if expected is not None and artifact != expected:
        proof.wrong_artifact = artifact or "none"
    if rid is None:
        proof.finished = True  # a line without a request id can't be followed further; the line itself counts
        return proof
    for event in events:
        text = _text(event)
        if rid not in text:
            continue
        if is_error_line(text):
            proof.failure_lines.append(text)
        elif is_success_report(text, rid):
            proof.finished = True
    return proof


def is_start(message: str) -> bool:
    return message.startswith("START RequestId:") or '"type":"platform.start"' in message


def _failed_after_upload(by_request: dict[str, list[dict[str, Any]]], uploaded_ms: int, proof: Proof) -> Proof:
    for rid, lines in by_request.items():
        # The marker's event gets a fresh request id; Lambda retries an older event under its old id, so an
        # invocation whose first attempt began before the upload is never the marker's, whenever it fails again.
        started = next((e["timestamp"] for e in lines if is_start(e["message"])), lines[0]["timestamp"])
        if started < uploaded_ms - START_SLACK_MS:
            continue
        if any(is_error_line(e["message"]) for e in lines):
            proof.failure_lines = [_text(e) for e in lines]
            proof.failed_request_id = rid
            return proof
    return proof


def next_delay(delay: float) -> float:
    """Poll early and often: 0.1 s, then 1.5 times longer each poll, at most 1 s."""
    return min(1.0, delay * 1.5)
