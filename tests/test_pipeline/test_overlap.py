"""`invoke pipeline` deploys to its own throwaway local cloud while an uncached lint runs, and shows it after.

The embedded child is stood in for by the session's local cloud (``Ready``), and lint by a function that
prints what lint would, so each test decides when lint ends relative to the deploy without timing it.
"""

from __future__ import annotations

import re
import threading

import pytest
from pipeline_helpers import read_terminal

from pipeline import commands, console, overlap, report
from pipeline import lint as lint_step
from pipeline.errors import UserError

WAIT = 60  # seconds a fake lint waits for the deploy; only reached when the two do not overlap


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
    def lint(use_cache=True):
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
    out = re.sub(r"-[A-Z0-9]{10,}\b", "-ID", out)  # physical ids' random suffixes
    out = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "UUID", out)
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

    def lint(use_cache=True, also=()):
        seen.append(("lint started", threading.current_thread()))
        report.emit("Lint: 1 checks, all clean, 0 from the cache, 0.1 s.")
        seen.append(("lint returned", threading.current_thread()))

    monkeypatch.setattr(commands, "deploy_and_verify", spy)
    monkeypatch.setattr(commands, "lint", lint)
    commands.pipeline(make_settings())
    here = threading.current_thread()
    assert seen == [("lint started", here), ("lint returned", here), ("deploy", here)]
    assert "Verified:" in capsys.readouterr().out


def test_on_a_terminal_the_held_part_is_plain_and_lint_keeps_its_terminal(terminal, monkeypatch):
    """The held deploy cannot show a live view, so its consoles render plain; lint's, in its own thread, do not."""
    stream, main = terminal
    monkeypatch.setattr("sys.stdout", stream)
    seen = {}

    def lint():
        seen["lint"] = console.make().is_terminal

    def work():
        seen["work"] = console.make().is_terminal
        report.stage("2/3 Package and deploy")

    overlap.behind_lint(lint, work)
    stream.flush()
    assert seen == {"lint": True, "work": False}
    assert read_terminal(main).strip() == "==> 2/3 Package and deploy"
