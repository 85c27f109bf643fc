"""pipeline.console: styled on a pseudo-terminal, plain under NO_COLOR, CI, TERM=dumb and in pipes."""

from __future__ import annotations

import io

import pytest
from pipeline_helpers import read_terminal
from rich.text import Text

from pipeline import console

STYLED = Text("deployed", style="bold green")
ESC = "\x1b["


def test_a_terminal_gets_colour_codes(terminal):
    stream, main = terminal
    out = console.make(stream)
    assert out.is_terminal and out.color_system is not None
    out.print(STYLED)
    stream.flush()
    text = read_terminal(main, stream)
    assert ESC in text and "deployed" in text


@pytest.mark.parametrize("variable", ["NO_COLOR", "CI"])
def test_no_color_or_ci_on_a_terminal_is_plain(terminal, monkeypatch, variable):
    stream, main = terminal
    monkeypatch.setenv(variable, "1")
    out = console.make(stream)
    out.print(STYLED)
    stream.flush()
    assert read_terminal(main, stream).replace("\r\n", "\n") == "deployed\n"
    assert not out.is_terminal and not out.is_interactive


def test_term_dumb_is_plain(terminal, monkeypatch):
    stream, main = terminal
    monkeypatch.setenv("TERM", "dumb")
    console.make(stream).print(STYLED)
    stream.flush()
    assert ESC not in read_terminal(main, stream)


def test_a_pipe_is_plain_with_a_fixed_width_and_unwrapped_messages(monkeypatch):
    for name in ("NO_COLOR", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "37")  # ignored: plain output must not depend on the caller's terminal
    buf = io.StringIO()
    out = console.make(buf)
    assert out.width == console.PLAIN_WIDTH
    long = "word " * 60 + "[y/N]"  # brackets are not markup
    out.print(STYLED)
    out.print(long)
    assert buf.getvalue() == f"deployed\n{long}\n"


def test_default_stream_is_stdout_at_call_time(capsys):
    console.make().print("hello")
    assert capsys.readouterr().out == "hello\n"


def test_explicit_width_applies_in_plain_mode():
    assert console.make(io.StringIO(), width=40).width == 40


def test_is_styled_reads_the_given_environment():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert console.is_styled(Tty(), {})
    assert not console.is_styled(Tty(), {"NO_COLOR": "1"})
    assert console.is_styled(Tty(), {"NO_COLOR": ""})  # no-color.org: only a non-empty value counts
    assert not console.is_styled(io.StringIO(), {})


def test_held_for_a_terminal_consoles_are_styled_at_its_width_but_never_animate(terminal):
    stream, _ = terminal
    held = io.StringIO()
    with console.redirected(held, like=console.make(stream, width=93)):
        out = console.make()
        out.print(STYLED)
    assert out.is_terminal and not out.is_interactive and not console.animates(out) and out.width == 93
    assert ESC in held.getvalue()
    assert console.animates(console.make(stream))
    assert not console.make().is_terminal  # the redirect ended with its block


def test_held_for_a_pipe_consoles_are_plain():
    held = io.StringIO()
    with console.redirected(held, like=console.make(io.StringIO())):
        console.make().print(STYLED)
    assert held.getvalue() == "deployed\n"


class Noted(io.StringIO):
    """A held stream as ``pipeline.overlap`` makes one: it keeps what is written, and what it is told."""

    def __init__(self):
        super().__init__()
        self.notes = []

    def note(self, text):
        self.notes.append(text)


def test_notes_reach_the_stream_this_thread_writes_to_and_messages_are_noted():
    held = Noted()
    console.note("nobody hears this")  # not redirected: a no-op
    with console.redirected(held):
        console.note("Function  CREATE_IN_PROGRESS")
        console.show(console.make(), "Package: s3://bucket/key.zip\nsecond line")
        console.show(console.make(), Text("a renderable is not a message"))
    assert held.notes == ["Function  CREATE_IN_PROGRESS", "Package: s3://bucket/key.zip"]
