"""Collect a worker's stdout+stderr as CloudWatch log events, the way Lambda does.

One pipe carries both streams, so the order the handler wrote in is the order of the events (a second pipe,
such as awslambdaric's telemetry fd, cannot be ordered against ``print`` output). Every line becomes one event
ending in ``\\n`` as in Lambda. awslambdaric joins the lines of an error report with ``\\r`` precisely so that
a line-based collector keeps the report in one event; it is shown with newlines, as Lambda shows it.

Reads are non-blocking: the worker's owner calls ``read()`` when select() says the pipe is readable, and again
once the runtime has posted its result (awslambdaric flushes every write, so by then everything the handler
wrote is in the pipe).
"""

from __future__ import annotations

import os
import time


def _now_ms() -> int:
    return int(time.time() * 1000)


class OutputCollector:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.closed = False  # EOF: the worker process has exited
        self._line = b""
        self._events: list[tuple[int, str]] = []

    def read(self) -> None:
        """Consume everything available in the pipe now."""
        while not self.closed:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if not chunk:
                self.closed = True
                return
            *lines, self._line = (self._line + chunk).split(b"\n")
            now = _now_ms()
            self._events.extend((now, _message(line) + "\n") for line in lines)

    def take(self, complete_only: bool = False) -> list[tuple[int, str]]:
        """The events collected since the last call, oldest first (a pending partial line too, unless
        ``complete_only``: mid-invocation, a line may still be on its way)."""
        if self._line and not complete_only:
            self._events.append((_now_ms(), _message(self._line)))
            self._line = b""
        events, self._events = self._events, []
        return events


def _message(line: bytes) -> str:
    return line.decode("utf-8", "replace").replace("\r", "\n")
