"""How a lint run looks while it runs: each check with its state and its time.

On a terminal, a live table: a spinner and the elapsed time beside each running check, a tick or a cross and
the time once it is done. Anywhere else (a pipe, CI, ``NO_COLOR``; see ``pipeline.console``), one stable line
per check as it finishes, so GitHub's log shows the same text every time.

Work running beside lint (``invoke pipeline``'s throwaway deploy, ``pipeline.overlap``) may add rows of its own
to the live table (``also``); they leave it when lint ends, so what stays on screen is lint's table.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from pipeline import console as consoles
from pipeline.lint import Check, CheckResult


class Row(Protocol):
    """A row of the live table: its mark, name, time and detail."""

    def cells(self) -> tuple[RenderableType, ...]: ...


def grid(rows: Iterable[tuple[RenderableType, ...]]) -> Table:
    """The live table's layout: mark, name, time, detail."""
    table = Table.grid(padding=(0, 2))
    for cells in rows:
        table.add_row(*cells)
    return table


def timing(result: CheckResult) -> str:
    return f"cached ({result.seconds:.1f} s when it ran)" if result.cached else f"{result.seconds:.1f} s"


def line(result: CheckResult) -> str:
    """The plain line for a finished check, e.g. ``  ok      ruff check       0.1 s``."""
    verdict = "ok" if result.ok else "FAILED"
    detail = "" if result.ok else f"  {result.summary}"
    return f"  {verdict:<7} {result.check.name:<16} {timing(result)}{detail}"


class PlainView:
    """One line per check as it finishes; nothing that moves."""

    def __init__(self, console: Console):
        self.console = console
        self._lock = threading.Lock()

    def started(self, check: Check) -> None:
        pass

    def finished(self, result: CheckResult) -> None:
        with self._lock:
            self.console.print(line(result))


class LiveView:
    """A table redrawn by rich's Live: one row per check."""

    def __init__(self, checks: Sequence[Check], also: Sequence[Row] = ()):
        self.names = [c.name for c in checks]
        self.also = also
        self.began: dict[str, float] = {}
        self.done: dict[str, CheckResult] = {}

    def started(self, check: Check) -> None:
        self.began[check.name] = time.monotonic()

    def finished(self, result: CheckResult) -> None:
        self.done[result.check.name] = result

    def __rich__(self) -> Table:
        return grid([*(self._row(name) for name in self.names), *(row.cells() for row in self.also)])

    def _row(self, name: str) -> tuple:
        result = self.done.get(name)
        if result is not None:
            mark = Text("✓", style="green") if result.ok else Text("✗", style="bold red")
            detail = Text("" if result.ok else result.summary, style="red")
            return mark, Text(name), Text(timing(result), style="dim" if result.cached else ""), detail
        if name in self.began:
            return Spinner("dots", style="cyan"), Text(name), Text(f"{time.monotonic() - self.began[name]:.1f} s"), ""
        return Text("·", style="dim"), Text(name, style="dim"), Text("waiting", style="dim"), ""


@contextlib.contextmanager
def show(console: Console, checks: Sequence[Check], also: Sequence[Row] = ()) -> Iterator[PlainView | LiveView]:
    """The view to pass to ``lint.run_all`` as its progress, live on a terminal (with the ``also`` rows)."""
    if not consoles.animates(console):
        yield PlainView(console)
        return
    view = LiveView(checks, also)
    with Live(view, console=console, refresh_per_second=12, transient=False):
        try:
            yield view
        finally:
            view.also = ()  # the table's last drawing, which stays on screen, is lint's own
