"""`invoke pipeline` deploys to its own throwaway local cloud while an uncached lint runs, and shows it after.

The embedded child is stood in for by the session's local cloud (``Ready``), and lint by a function that
prints what lint would, so each test decides when lint ends relative to the deploy without timing it.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import threading
from collections.abc import Callable

import pyte
import pytest

from pipeline import aws, cancel, commands, console, embedded, lint_view, overlap, report
from pipeline import lint as lint_step
from pipeline.errors import UserError

WAIT = 60  # seconds a test waits for what it expects; only reached when that never happens
COLUMNS = 100  # the pseudo-terminal's width


class Ready:
    """Stands for the embedded child: a local cloud this run owns, already answering at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url

    def endpoint(self) -> str:
        return self.url


@pytest.fixture
def deployed(monkeypatch):
    """Set once the pipeline's deploy has finished (its change set executed, the stack's status printed)."""
    done = threading.Event()
    real = commands.deploy_packaged

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        done.set()
        return result

    monkeypatch.setattr(commands, "deploy_packaged", spy)
    monkeypatch.setattr(lint_step, "all_cached", lambda: False)  # a fresh clone: every check runs
    return done


def fake_lint(monkeypatch, *, wait_for=None, fail=False):
    def lint(use_cache=True, also=(), begun=None):
        report.emit("lint started")
        if wait_for is not None:
            assert wait_for.wait(WAIT), "the deploy did not run while lint ran"
        if fail:
            report.emit("--- ruff ---\nhandler.py:1:1: F401 unused import\n")
            raise UserError("Lint failed: ruff. The findings are printed above; fix them and run again.")
        report.emit("Lint: 1 checks, all clean, 0 from the cache, 0.1 s.")

    monkeypatch.setattr(commands, "lint", lint)


def shape(out: str, stack_name: str) -> list[str]:
    """The output with what differs between two stacks' first deploys (names, ids, digests, times) masked."""
    out = out.replace(stack_name, "STACK")
    out = re.sub(r'"version_id": "[^"]*"', '"version_id": "V"', out)  # S3's random version ids vary in shape too
    # Request ids first: a UUID whose last group happens to be all digits (1 in 280) is also a physical-id suffix.
    out = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "UUID", out)
    out = re.sub(r"-[A-Z0-9]{10,}\b", "-ID", out)  # physical ids' random suffixes
    out = re.sub(r"[0-9a-fA-F]{8,}", "H", out)
    return re.sub(r"\d+(\.\d+)?", "N", out).splitlines()


def test_the_deploy_runs_while_lint_runs_and_is_shown_after_it(make_settings, endpoint, deployed, monkeypatch, capsys):
    fake_lint(monkeypatch, wait_for=deployed)
    commands.pipeline(make_settings(), child=Ready(endpoint))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:5] == [
        "==> 1/3 Lint",
        "lint started",
        "Lint: 1 checks, all clean, 0 from the cache, 0.1 s.",
        "==> 2/3 Package and deploy",
    ]
    assert lines.index("==> 3/3 Verify") < next(i for i, line in enumerate(lines) if line.startswith("Verified:"))


def test_what_is_shown_is_what_a_sequential_run_shows(make_settings, endpoint, deployed, monkeypatch, capsys):
    fake_lint(monkeypatch)
    monkeypatch.setattr(lint_step, "all_cached", lambda: True)  # a cached lint: no overlap
    first = make_settings()
    commands.pipeline(first, child=Ready(endpoint))
    sequential = shape(capsys.readouterr().out, first.stack_name)
    deployed.clear()
    fake_lint(monkeypatch, wait_for=deployed)
    monkeypatch.setattr(lint_step, "all_cached", lambda: False)
    second = make_settings()
    commands.pipeline(second, child=Ready(endpoint))
    assert deployed.is_set()
    assert shape(capsys.readouterr().out, second.stack_name) == sequential


def test_a_lint_failure_shows_only_the_lint_failure(make_settings, endpoint, deployed, monkeypatch, capsys):
    fake_lint(monkeypatch, wait_for=deployed, fail=True)
    with pytest.raises(UserError, match="Lint failed: ruff"):
        commands.pipeline(make_settings(), child=Ready(endpoint))
    assert deployed.is_set()  # the throwaway deploy happened, and was dropped
    assert capsys.readouterr().out.splitlines()[1:] == [
        "==> 1/3 Lint",
        "lint started",
        "--- ruff ---",
        "handler.py:1:1: F401 unused import",
        "",
    ]


def test_a_users_own_local_cloud_is_deployed_to_only_after_lint_passed(make_settings, monkeypatch, capsys):
    """The session's local cloud answers at the configured endpoint, so the pipeline starts none (child None).

    Without waiting for anything: the deploy must start on the very thread that ran lint, after lint returned,
    and a thread does one thing at a time. A deploy started in any other thread (while lint runs) fails it.
    """
    monkeypatch.setattr(lint_step, "all_cached", lambda: False)
    seen = []
    real = commands.deploy_and_verify

    def spy(*args, **kwargs):
        seen.append(("deploy", threading.current_thread()))
        return real(*args, **kwargs)

    def lint(use_cache=True, also=(), begun=None):
        seen.append(("lint started", threading.current_thread()))
        report.emit("Lint: 1 checks, all clean, 0 from the cache, 0.1 s.")
        seen.append(("lint returned", threading.current_thread()))

    monkeypatch.setattr(commands, "deploy_and_verify", spy)
    monkeypatch.setattr(commands, "lint", lint)
    commands.pipeline(make_settings())
    here = threading.current_thread()
    assert seen == [("lint started", here), ("lint returned", here), ("deploy", here)]
    assert "Verified:" in capsys.readouterr().out


# -- a lint failure: the throwaway deploy is cancelled, not waited for ---------------------------------------
def test_a_lint_failure_cancels_the_throwaway_deploy_midway(make_settings, endpoint, monkeypatch, capsys):
    """Lint fails as soon as the deploy has begun: the deploy stops at its next request and its thread is gone."""
    monkeypatch.setattr(lint_step, "all_cached", lambda: False)
    begun, outcome = threading.Event(), []
    real = commands.deploy_packaged

    def spy(*args, **kwargs):
        begun.set()
        try:
            result = real(*args, **kwargs)
        except cancel.Cancelled:
            outcome.append("cancelled")
            raise
        outcome.append("finished")
        return result

    monkeypatch.setattr(commands, "deploy_packaged", spy)
    fake_lint(monkeypatch, wait_for=begun, fail=True)
    with pytest.raises(UserError, match="Lint failed: ruff"):
        commands.pipeline(make_settings(), child=Ready(endpoint))
    assert outcome == ["cancelled"]
    assert not [thread.name for thread in threading.enumerate() if thread.name.startswith("held")]
    assert "Package and deploy" not in capsys.readouterr().out


def test_a_cancelled_wait_or_request_raises_at_once_and_nothing_outside_a_scope_is_touched(make_settings):
    stop = threading.Event()
    cloud = aws.prepare_own_local(make_settings())
    s3 = cloud.client("s3")
    with cancel.scope(stop):
        s3.list_buckets()  # not cancelled yet
        stop.set()
        with pytest.raises(cancel.Cancelled):
            s3.list_buckets()
        with pytest.raises(cancel.Cancelled):
            cancel.sleep(WAIT)
    s3.list_buckets()  # outside the scope, a set event means nothing
    cancel.sleep(0)


def test_an_abandoned_deploy_does_not_wait_for_the_embedded_cloud_to_start():
    """A child that never says it is ready (it sleeps): ``endpoint()`` gives up once the deploy is cancelled."""
    never = subprocess.Popen(
        [sys.executable, "-c", f"import time; time.sleep({WAIT})"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    stop, raised = threading.Event(), []

    def wait_for_it():
        with cancel.scope(stop):
            try:
                embedded.Child(never, None, "http://127.0.0.1:1").endpoint()
            except cancel.Cancelled:
                raised.append("cancelled")

    waiting = threading.Thread(target=wait_for_it)
    waiting.start()
    stop.set()
    waiting.join(WAIT)
    never.kill()
    never.wait()
    never.stdin.close()
    never.stdout.close()
    assert raised == ["cancelled"]


# -- on a terminal -------------------------------------------------------------------------------------------
class Screen:
    """What a pseudo-terminal shows: its output is read as it comes (so its writer never blocks on a full
    buffer) and played on pyte's terminal emulator, cursor moves and erasures included."""

    def __init__(self, fd: int, columns: int = COLUMNS) -> None:
        self.fd, self.screen = fd, pyte.Screen(columns, 400)
        self.stream = pyte.ByteStream(self.screen)
        self.changed, self.stopped = threading.Condition(), False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while not self.stopped:
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    return
                with self.changed:
                    self.stream.feed(data)
                    self.changed.notify_all()

    def lines(self) -> list[str]:
        with self.changed:
            shown = [line.rstrip() for line in self.screen.display]
        while shown and not shown[-1]:
            shown.pop()
        return shown

    def styles(self, text: str) -> set[tuple[str, bool]]:
        """The (colour, bold) of the characters of the first line that starts with ``text``."""
        with self.changed:
            for y, line in enumerate(self.screen.display):
                if line.startswith(text):
                    return {(self.screen.buffer[y][x].fg, self.screen.buffer[y][x].bold) for x in range(len(text))}
        raise AssertionError(f"no line starts with {text!r}")

    def wait_for(self, shown: Callable[[list[str]], bool]) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: shown(self._display()), WAIT)

    def _display(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def settled(self) -> list[str]:
        """The screen once all that was written before now has been played (what is left when the run ends): a
        window-title change written last marks the end, and shows nowhere on the screen."""
        mark = f"settled-{id(self)}"
        self.output.write(f"\x1b]0;{mark}\x07")
        self.output.flush()
        with self.changed:
            assert self.changed.wait_for(lambda: self.screen.title == mark, WAIT), "the end mark never came"
        self.stopped = True
        self.reader.join()
        return self.lines()


@pytest.fixture
def screens(terminal, monkeypatch):
    """Makes pseudo-terminals' screens; a test points ``sys.stdout`` at a ``screen.output`` itself (pytest's
    capture sets it again between a fixture's setup and the test)."""
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    made = []

    def make() -> Screen:
        main, side = os.openpty()
        shown = Screen(main)
        shown.output = os.fdopen(side, "w", encoding="utf-8")
        made.append((shown, main))
        return shown

    yield make
    for shown, main in made:
        shown.stopped = True
        shown.reader.join()
        shown.output.close()
        os.close(main)


@pytest.fixture
def screen(screens):
    return screens()


def row(name: str, lines: list[str], mark: str = "") -> str | None:
    """The live table's row for ``name`` (``mark``: its first character) if the screen shows one."""
    found = [line for line in lines if re.match(rf"{mark or '.'}  {re.escape(name)} +\d+\.\d s", line)]
    return found[0] if found else None


CHECK = lint_step.Check("ruff check", ("ruff",))


def live_lint(screen: Screen, until: Callable[[list[str]], bool]):
    """A lint with the real live table: one check, which ends once the screen shows ``until``."""

    def lint(also):
        with lint_view.show(console.make(), [CHECK], also) as progress:
            progress.started(CHECK)
            assert screen.wait_for(until), f"never shown; the screen: {screen.lines()}"
            progress.finished(lint_step.CheckResult(CHECK, True, 0.1, ""))
        report.emit("Lint: 1 checks, all clean, 0 from the cache, 0.1 s.")

    return lint


def test_on_a_terminal_the_deploy_is_a_live_row_beside_lint_then_its_output_styled(screen, monkeypatch):
    """The row shows what the deploy does while it runs and its tick when done; the table left behind is lint's,
    and the held output follows it styled, as the deploy on this terminal would have printed it."""
    monkeypatch.setattr("sys.stdout", screen.output)

    def work():
        report.stage("2/3 Package and deploy")
        report.emit("Package: s3://bucket/artifacts/dev/abc.zip (10 bytes, uploaded).")
        running = lambda lines: "Package: s3://bucket" in (row("deploy", lines, mark="[^✓✗]") or "")  # noqa: E731
        assert screen.wait_for(running), screen.lines()  # a spinner and what it did last, while it runs

    overlap.behind_lint(live_lint(screen, lambda lines: row("deploy", lines, mark="✓")), work)
    shown = screen.settled()
    assert shown[:4] == [
        "✓  ruff check  0.1 s",
        "Lint: 1 checks, all clean, 0 from the cache, 0.1 s.",
        "2/3 Package and deploy " + "─" * (COLUMNS - len("2/3 Package and deploy ")),
        "Package: s3://bucket/artifacts/dev/abc.zip (10 bytes, uploaded).",
    ]
    assert len(shown) == 4, shown
    assert screen.styles("2/3 Package and deploy") == {("cyan", True)}  # report.stage's rule, as on a terminal


def test_on_a_terminal_a_deploy_that_outlasts_lint_streams_on_below_lint_with_no_row_left(screen, monkeypatch):
    """Once lint is done the rest of the deploy streams straight through: no live row is drawn while its thread
    writes (that raced, leaving a row with a line glued to it), and none is left on screen."""
    monkeypatch.setattr("sys.stdout", screen.output)

    def work():
        report.emit("Package: s3://bucket/artifacts/dev/abc.zip (10 bytes, uploaded).")
        streamed = lambda lines: "Package: s3://bucket" in "".join(lines) and "Lint: " in "".join(lines)  # noqa: E731
        assert screen.wait_for(streamed), screen.lines()  # written while the deploy still runs
        assert row("deploy", screen.lines()) is None, screen.lines()
        report.emit("Verified: the function logged the upload.")

    overlap.behind_lint(live_lint(screen, lambda lines: row("deploy", lines) is not None), work)
    assert screen.settled() == [
        "✓  ruff check  0.1 s",
        "Lint: 1 checks, all clean, 0 from the cache, 0.1 s.",
        "Package: s3://bucket/artifacts/dev/abc.zip (10 bytes, uploaded).",
        "Verified: the function logged the upload.",
    ]


def test_on_a_terminal_what_is_left_on_screen_is_what_a_sequential_run_leaves(
    make_settings, endpoint, deployed, monkeypatch, screens
):
    """The real pipeline on two pseudo-terminals: with a cached lint (the deploy live, on the main thread) and
    overlapped (held, then written out): the screens they leave are the same, styles included."""
    fake_lint(monkeypatch)
    monkeypatch.setattr(lint_step, "all_cached", lambda: True)
    left = {}
    for kind in ("sequential", "overlapped"):
        shown, settings = screens(), make_settings()
        monkeypatch.setattr("sys.stdout", shown.output)
        commands.pipeline(settings, child=Ready(endpoint))
        shown.output.flush()
        text = re.sub(r"/verify/\S*\n?\S*\.txt", "/verify/KEY.txt", "\n".join(shown.settled()))  # wrapped at 100
        left[kind] = shape(text, settings.stack_name), shown.styles("2/3 Package and deploy")
        deployed.clear()
        fake_lint(monkeypatch, wait_for=deployed)
        monkeypatch.setattr(lint_step, "all_cached", lambda: False)
    assert any(line.startswith("Verified: the function logged the upload") for line in left["overlapped"][0])
    assert left["overlapped"] == left["sequential"]


def test_on_a_terminal_the_held_consoles_are_styled_but_never_animate_and_lint_keeps_its_own(terminal, monkeypatch):
    stream, _ = terminal
    monkeypatch.setattr("sys.stdout", stream)
    seen = {}

    def lint(also):
        out = console.make()
        seen["lint"] = out.is_terminal, console.animates(out), len(also)

    def work():
        out = console.make()
        seen["work"] = out.is_terminal, console.animates(out)

    overlap.behind_lint(lint, work)
    assert seen == {"lint": (True, True, 1), "work": (True, False)}


def test_off_a_terminal_lint_gets_no_rows_and_the_held_part_is_plain(capsys):
    seen = {}

    def lint(also):
        seen["rows"] = list(also)

    def work():
        seen["work"] = console.make().is_terminal
        report.stage("2/3 Package and deploy")

    overlap.behind_lint(lint, work)
    assert seen == {"rows": [], "work": False}
    assert capsys.readouterr().out == "==> 2/3 Package and deploy\n"
