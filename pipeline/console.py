"""The one way the tasks make a rich ``Console``: styled on a terminal, plain and stable everywhere else.

Plain means no colour or style codes, no live or animated output, no inserted line breaks in long messages,
and a fixed width for tables, so GitHub Actions logs, pipes and the tests see the same text on every machine.
Plain applies when the stream is not a TTY, or ``NO_COLOR`` (https://no-color.org) or ``CI`` is set, or
``TERM=dumb``. Markup and highlighting are off in both modes: messages carry brackets (``[y/N]``, ARNs), and
styling is applied explicitly with ``rich.text.Text``.

Work whose output is held to be shown later (``pipeline.overlap``) gets consoles that render as the terminal
it will be shown on, styled but never animated (``is_terminal`` true, ``is_interactive`` false): a live view
cannot be replayed. Views animate only on an interactive console (``animates``); what such work is doing
meanwhile goes to ``note``, which that held stream shows in the live view of the thread that holds it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import TextIO

from rich.console import Console, RenderableType

PLAIN_WIDTH = 120  # wide enough for a change table with property names, narrow enough for a log viewer
_thread = threading.local()  # ``stdout``, ``like``: where this thread's consoles write, as what (``redirected``)


def is_styled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when output to ``stream`` should be coloured and may animate."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("CI") or env.get("TERM", "").lower() == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def make(stream: TextIO | None = None, width: int | None = None, environ: Mapping[str, str] | None = None) -> Console:
    """A Console writing to ``stream`` (``sys.stdout`` at call time, so captured output is honoured; or this
    thread's stream while ``redirected``).

    ``width`` fixes the width in either mode (tests use it to simulate a narrow terminal).
    """
    like = getattr(_thread, "like", None) if stream is None else None
    stream = (getattr(_thread, "stdout", None) or sys.stdout) if stream is None else stream
    common = {"file": stream, "markup": False, "highlight": False, "emoji": False, "legacy_windows": False}
    if like is not None:  # held for a terminal: styled as it is, never animated
        terminal = {"color_system": like.color_system, "width": width or like.width}
        return Console(force_terminal=True, force_interactive=False, **terminal, **common)
    if is_styled(stream, environ):
        return Console(force_terminal=True, force_interactive=True, width=width, **common)
    return Console(
        force_terminal=False,
        force_interactive=False,
        color_system=None,
        no_color=True,
        width=width or PLAIN_WIDTH,
        soft_wrap=True,  # a long message stays one line in plain mode; tables still fit the width
        **common,
    )


@contextlib.contextmanager
def redirected(stream: TextIO, like: Console | None = None) -> Iterator[None]:
    """Within it, consoles this thread makes for standard output write to ``stream``; other threads are unaffected.

    With ``like`` (a terminal's console), they render for that terminal, styled and its width, but never animate.
    """
    _thread.stdout, _thread.like = stream, like if like is not None and like.is_terminal else None
    try:
        yield
    finally:
        _thread.stdout = _thread.like = None


def animates(out: Console) -> bool:
    """Whether a view on ``out`` may redraw itself (a live table, spinners): only on an interactive terminal."""
    return out.is_terminal and out.is_interactive


def note(text: str) -> None:
    """Say what this thread's work is doing now, for a view that cannot animate (held output shows it live)."""
    told = getattr(getattr(_thread, "stdout", None), "note", None)
    if told is not None:
        told(text)


def show(out: Console, renderable: str | RenderableType) -> None:
    """Print; in plain mode without the trailing spaces rich pads table cells with. A message is also noted."""
    if isinstance(renderable, str) and renderable.strip():
        note(renderable.strip().splitlines()[0])
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    out.file.write("\n".join(line.rstrip() for line in captured.get().split("\n")))
    out.file.flush()
