"""Stopping a thread's work at its next wait or request: the throwaway deploy, once lint has failed.

``invoke pipeline`` deploys to its own throwaway local cloud while lint runs (``pipeline.overlap``). When lint
fails, that deploy is of no use, and waiting for it to finish would hold lint's error back by a second or two.
Within ``scope(stop)``, once ``stop`` is set, the thread's next API request (each attempt, so botocore's retries
too), poll wait or ``check()`` raises ``Cancelled``. That unwinds the work through its ``finally`` blocks and
context managers, so its temporary folders and views are cleaned up as on any error.

``Cancelled`` is a BaseException, as KeyboardInterrupt is, so that no ``except Exception`` on the way (a
rollback, a step summary) acts on it. Outside a scope, ``sleep`` is ``time.sleep`` and the checks do nothing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

_thread = threading.local()  # ``stop``: the event that cancels this thread's work, within ``scope``


class Cancelled(BaseException):
    """The work was abandoned: its result is not wanted."""


@contextlib.contextmanager
def scope(stop: threading.Event) -> Iterator[None]:
    """Within it, this thread's requests, waits and checks raise ``Cancelled`` once ``stop`` is set."""
    _thread.stop = stop
    try:
        yield
    finally:
        _thread.stop = None


def check() -> None:
    stop = getattr(_thread, "stop", None)
    if stop is not None and stop.is_set():
        raise Cancelled


def sleep(seconds: float) -> None:
    """``time.sleep``, cut short by a cancel (the polls of a deploy and of verify wait here)."""
    stop = getattr(_thread, "stop", None)
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise Cancelled


def before_send(**_kwargs: Any) -> None:
    """botocore's ``before-send`` hook (register it on a session): no request leaves a cancelled thread."""
    check()
