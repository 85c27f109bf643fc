"""Deploying to ``invoke pipeline``'s own throwaway local cloud while lint runs, shown only once lint has passed.

Lint's tools run in their own processes and the deploy mostly waits on the local cloud (another process), so
on two cores they take little longer together than the longer of the two. What the user sees stays as it was:
the deploy's output is held until lint has passed, then written out in order, and from then on passes straight
through. Held for a pipe or a log, it renders plain, exactly as a sequential run's. Held for a terminal, it
renders styled, as the deploy would have on that terminal (only without its transient live views), while a row
in lint's live table shows what the deploy is doing. Once lint has passed and the held part is written, the rest
streams straight through, with no live row of its own: the deploy's thread writes while that row would redraw,
and rich's Live then, rarely, left the row on screen with the next line glued to it.

When lint fails, only lint's failure is shown, at once: the held deploy is cancelled (``pipeline.cancel``) at
its next request or poll, which unwinds it (its temporary folders go, its thread ends) before lint's error
returns, and its output is dropped. It went to the embedded cloud, which dies with the run. Only for that
cloud: against anyone's own local cloud or AWS, nothing is deployed before lint has passed.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from rich.console import RenderableType
from rich.spinner import Spinner
from rich.text import Text

from pipeline import cancel, console, lint_view

T = TypeVar("T")


class Activity:
    """The held work's row in lint's live table: a spinner, its time and the last thing it did; then a tick or
    cross."""

    def __init__(self, name: str) -> None:
        self.name, self.latest = name, "starting"
        self.began, self.took, self.ok = time.monotonic(), None, None
        self.spinner = Spinner("dots", style="cyan")

    def ended(self, ok: bool) -> None:
        self.took, self.ok = time.monotonic() - self.began, ok

    def cells(self) -> tuple[RenderableType, ...]:
        detail = Text(self.latest, style="dim", no_wrap=True, overflow="ellipsis")
        if self.took is None:
            return self.spinner, Text(self.name), Text(f"{time.monotonic() - self.began:.1f} s"), detail
        mark = Text("✓", style="green") if self.ok else Text("✗", style="bold red")
        return mark, Text(self.name), Text(f"{self.took:.1f} s"), detail


class HeldOutput(io.TextIOBase):
    """A text stream that keeps what is written until ``release()``, then passes it on to ``sys.stdout``."""

    def __init__(self, activity: Activity | None = None) -> None:
        self._lock = threading.Lock()
        self._held: list[str] | None = []
        self.activity = activity

    def write(self, text: str) -> int:
        with self._lock:
            if self._held is None:
                sys.stdout.write(text)  # released: straight through to the terminal or pipe
            else:
                self._held.append(text)
        return len(text)

    def note(self, text: str) -> None:
        """What the work is doing now (``console.note``: its stages, messages and stack events)."""
        if self.activity is not None:
            self.activity.latest = text

    def flush(self) -> None:
        with self._lock:
            if self._held is None:
                sys.stdout.flush()

    def isatty(self) -> bool:
        return False  # so consoles writing here never animate

    def release(self) -> None:
        with self._lock:
            sys.stdout.write("".join(self._held or ()))
            sys.stdout.flush()
            self._held = None


def behind_lint(lint: Callable[[Sequence[lint_view.Row]], None], work: Callable[[], T]) -> T:
    """Run ``work`` while ``lint`` runs, its output shown only after ``lint`` returned; ``lint``'s error otherwise.

    ``lint`` is given the rows to add to its live view (none off a terminal). On a lint failure (or Ctrl-C), the
    work is cancelled and this waits only for it to unwind, so nothing of it is left when the embedded cloud stops.
    """
    terminal = console.make()
    activity = Activity("deploy") if console.animates(terminal) else None
    held, stop = HeldOutput(activity), threading.Event()

    def run_held() -> T:
        with console.redirected(held, like=terminal), cancel.scope(stop):
            try:
                result = work()
            except BaseException:
                if activity is not None:
                    activity.ended(ok=False)
                raise
        if activity is not None:
            activity.ended(ok=True)
        return result

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="held") as pool:
        done = pool.submit(run_held)
        try:
            lint([activity] if activity is not None else [])
            held.release()
        except BaseException:
            stop.set()  # the pool's exit then waits only until the work's next request or poll
            raise
        return done.result()
