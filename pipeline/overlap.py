"""Deploying to ``invoke pipeline``'s own throwaway local cloud while lint runs, shown only once lint has passed.

Lint's tools run in their own processes and the deploy mostly waits on the local cloud (another process), so
on two cores they take little longer together than the longer of the two. What the user sees stays as it was:
the deploy's output is held (rendered plain, as in a log: a live view cannot be held) until lint has passed,
then written out in order, and from then on passes straight through. When lint fails, only lint's failure is
shown and the held deploy is dropped: it went to the embedded cloud, which dies with the run. Only for that
cloud: against anyone's own local cloud or AWS, nothing is deployed before lint has passed.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pipeline import console

T = TypeVar("T")


class HeldOutput(io.TextIOBase):
    """A text stream that keeps what is written until ``release()``, then passes it on to ``sys.stdout``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[str] | None = []

    def write(self, text: str) -> int:
        with self._lock:
            if self._held is None:
                sys.stdout.write(text)
            else:
                self._held.append(text)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._held is None:
                sys.stdout.flush()

    def isatty(self) -> bool:
        return False  # so consoles writing here render plain, without a live view

    def release(self) -> None:
        with self._lock:
            sys.stdout.write("".join(self._held or ()))
            sys.stdout.flush()
            self._held = None


def behind_lint(lint: Callable[[], None], work: Callable[[], T]) -> T:
    """Run ``work`` while ``lint`` runs, its output shown only after ``lint`` returned; ``lint``'s error otherwise.

    On a lint failure this waits for ``work`` to end (its output and outcome dropped), so nothing of it is
    left running when the embedded cloud stops.
    """
    held = HeldOutput()

    def run_held() -> T:
        with console.redirected(held):
            return work()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="held") as pool:
        done = pool.submit(run_held)
        lint()
        held.release()
        return done.result()
