"""Lambda's log lines and where they go: the function's log group in moto's in-process CloudWatch Logs.

Lambda writes, per execution environment, one stream ``YYYY/MM/DD/[$LATEST]<32 hex>``: ``INIT_START`` on a cold
start, then per request ``START RequestId: …``, the function's own output, ``END RequestId: …`` and
``REPORT RequestId: …`` (with ``Init Duration`` on a cold start). With ``LoggingConfig.LogFormat = JSON`` the
platform lines are JSON records instead (``platform.initStart``, ``platform.start``, ``platform.report``).

The runtime runs in the same process as moto, so events go straight into the logs backend (no HTTP per line).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from localcloud import pace

# moto's logs backend is not thread-safe: writes here and its reads (localcloud.fixes.logs_locking) take this.
LOCK = threading.RLock()


@dataclass(frozen=True)
class LogSettings:
    group: str
    json: bool
    platform: bool  # False when the JSON SystemLogLevel (WARN, ERROR, FATAL) hides the INFO platform lines


def settings_for(fn: Any) -> LogSettings:
    config = getattr(fn, "logging_config", None) or {}
    is_json = config.get("LogFormat", "Text") == "JSON"
    quiet = is_json and config.get("SystemLogLevel", "INFO") in ("WARN", "ERROR", "FATAL")
    group = config.get("LogGroup") or f"/aws/lambda/{fn.function_name}"
    return LogSettings(group=group, json=is_json, platform=not quiet)


def new_stream_name(version: str) -> str:
    today = dt.datetime.now(dt.UTC)
    return f"{today:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def iso_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _record(kind: str, record: dict[str, Any]) -> str:
    return json.dumps({"time": iso_now(), "type": kind, "record": record}, separators=(",", ":"))


def init_start(settings: LogSettings, fn: Any) -> list[str]:
    runtime_version = f"python:{sys.version_info.major}.{sys.version_info.minor}.localcloud"
    runtime_arn = f"arn:aws:lambda:{fn.region}::runtime:localcloud"
    if not settings.platform:
        return []
    if settings.json:
        record = {
            "initializationType": "on-demand",
            "phase": "init",
            "runtimeVersion": runtime_version,
            "runtimeVersionArn": runtime_arn,
            "functionName": fn.function_name,
            "functionVersion": str(fn.version),
        }
        return [_record("platform.initStart", record)]
    return [f"INIT_START Runtime Version: {runtime_version}\tRuntime Version ARN: {runtime_arn}\n"]


def init_error_report(settings: LogSettings, init_ms: float, error_type: str) -> list[str]:
    if settings.json:
        record = {
            "initializationType": "on-demand",
            "phase": "init",
            "status": "error",
            "errorType": error_type,
            "metrics": {"durationMs": round(init_ms, 3)},
        }
        return [_record("platform.initReport", record)]
    return [f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: error\tError Type: {error_type}\n"]


def start(settings: LogSettings, request_id: str, version: str) -> list[str]:
    if not settings.platform:
        return []
    if settings.json:
        return [_record("platform.start", {"requestId": request_id, "version": version})]
    return [f"START RequestId: {request_id} Version: {version}\n"]


def end(settings: LogSettings, request_id: str) -> list[str]:
    # The JSON format has no END line: its platform.report closes the request.
    if settings.json or not settings.platform:
        return []
    return [f"END RequestId: {request_id}\n"]


def timed_out(request_id: str, timeout_s: float) -> list[str]:
    return [f"{iso_now()} {request_id} Task timed out after {timeout_s:.2f} seconds\n"]


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None
    status: str = "success"  # success | error | timeout (error only for a failed runtime, not a raise)
    error_type: str = ""


def report(settings: LogSettings, rep: Report) -> list[str]:
    billed = max(1, math.ceil(rep.duration_ms))
    if settings.json:
        return [_record("platform.report", _json_report(rep, billed))] if settings.platform else []
    fields = [
        f"REPORT RequestId: {rep.request_id}",
        f"Duration: {rep.duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {rep.memory_mb} MB",
        f"Max Memory Used: {rep.max_memory_mb} MB",
    ]
    if rep.init_ms is not None:
        fields.append(f"Init Duration: {rep.init_ms:.2f} ms")
    if rep.status != "success":
        fields.append(f"Status: {rep.status}")
    if rep.error_type:
        fields.append(f"Error Type: {rep.error_type}")
    return ["\t".join(fields) + "\t\n"]


def _json_report(rep: Report, billed: int) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "durationMs": round(rep.duration_ms, 3),
        "billedDurationMs": billed,
        "memorySizeMB": rep.memory_mb,
        "maxMemoryUsedMB": rep.max_memory_mb,
    }
    if rep.init_ms is not None:
        metrics["initDurationMs"] = round(rep.init_ms, 3)
    record: dict[str, Any] = {"requestId": rep.request_id, "metrics": metrics, "status": rep.status}
    if rep.error_type:
        record["errorType"] = rep.error_type
    return record


def write(fn: Any, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    """Append events (timestamp ms, message) to the stream, creating group and stream when missing.

    On the AWS-paced latency profile the events become readable only after CloudWatch Logs' ingestion delay.
    """
    delay = pace.logs_ingestion()
    if delay > 0:
        pace.later(delay, lambda: _put(fn, group, stream, events))
    else:
        _put(fn, group, stream, events)


def _put(fn: Any, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    from moto.logs.models import logs_backends  # at the first write: a local cloud starts without moto's Logs

    from localcloud import fixes

    fixes.apply_deferred()  # the logs backend's reads take LOCK once patched (a no-op after the first call)
    from moto.logs.exceptions import ResourceNotFoundException

    backend = logs_backends[fn.account_id][fn.region]
    batch = [{"timestamp": ts, "message": msg} for ts, msg in events]
    with LOCK:
        try:  # the stream exists after its first write: one call, not three, per write
            backend.put_log_events(group, stream, batch)
        except ResourceNotFoundException:  # the first write, or the group was deleted since
            backend.ensure_log_group(group)
            backend.ensure_log_stream(group, stream)
            backend.put_log_events(group, stream, batch)
