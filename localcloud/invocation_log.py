"""The log of one invocation, written while it runs, as Lambda streams it.

Lambda's lines for a request appear in CloudWatch as they happen, not when the request ends: ``INIT_START`` and
the init output on a cold start, ``START`` when the request is handed to the runtime, the function's output as
it writes it, then (on timeout ``Task timed out after N.NN seconds``) ``END`` and ``REPORT``. An init failure
is written at once: init output, ``INIT_REPORT``, ``START``, ``END``, ``REPORT``.

The worker calls ``started()`` and ``output()``; the runtime calls ``finished()``. Everything written is kept in
``text`` for ``LogType=Tail``.
"""

from __future__ import annotations

import time
from typing import Any

from localcloud import lambda_logs
from localcloud.lambda_logs import LogSettings, Report
from localcloud.workers import Outcome

Events = list[tuple[int, str]]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _at(timestamp_ms: int, messages: list[str]) -> Events:
    return [(timestamp_ms, message) for message in messages]


class InvocationLog:
    def __init__(self, fn: Any, settings: LogSettings, stream: str, request_id: str) -> None:
        self._fn = fn
        self._settings = settings
        self._stream = stream
        self._request_id = request_id
        self._latest = 0
        self._lines: list[str] = []

    @property
    def text(self) -> str:
        return "".join(line if line.endswith("\n") else line + "\n" for line in self._lines)

    def started(self, init_ms: float | None, init_events: Events) -> None:
        """The request is being handed to the runtime (after its init, on a cold start)."""
        now = _now_ms()
        events = self._init(now - int(init_ms), init_events) if init_ms is not None else []
        self._write(events + _at(now, lambda_logs.start(self._settings, self._request_id, str(self._fn.version))))

    def output(self, events: Events) -> None:
        self._write(events)

    def finished(self, outcome: Outcome, error_type: str, status: str) -> None:
        now = _now_ms()
        events: Events = []
        if outcome.phase == "init":  # the runtime never got ready: nothing was written yet
            init_ms = outcome.init_ms or 0.0
            events += self._init(now - int(init_ms), outcome.events)
            events += _at(now, lambda_logs.init_error_report(self._settings, init_ms, error_type))
            events += _at(now, lambda_logs.start(self._settings, self._request_id, str(self._fn.version)))
        else:
            events += outcome.events
        if outcome.kind == "timeout":
            events += _at(now, lambda_logs.timed_out(self._request_id, float(self._fn.timeout)))
        report = Report(
            request_id=self._request_id,
            duration_ms=outcome.duration_ms if outcome.phase == "invoke" else 0.0,
            memory_mb=int(self._fn.memory_size),
            max_memory_mb=outcome.max_memory_mb,
            init_ms=outcome.init_ms,
            status=status,
            error_type=error_type,
        )
        closing = lambda_logs.end(self._settings, self._request_id) + lambda_logs.report(self._settings, report)
        self._write(events + _at(now, closing))

    def _init(self, begun_ms: int, init_events: Events) -> Events:
        return _at(begun_ms, lambda_logs.init_start(self._settings, self._fn)) + init_events

    def _write(self, events: Events) -> None:
        if not events:
            return
        fixed = []
        for timestamp, message in events:  # keep the written order; readers sort by timestamp
            self._latest = max(self._latest, timestamp)
            fixed.append((self._latest, message))
        lambda_logs.write(self._fn, self._settings.group, self._stream, fixed)
        self._lines += [message for _, message in fixed]
