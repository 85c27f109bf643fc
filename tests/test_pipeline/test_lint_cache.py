"""The lint cache and runner: each check runs once per change, stale or corrupt entries are never used.

The checks here are small Python commands that count their runs in a file outside the checkout, so a test sees
exactly which checks ran. No test asserts a time.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from pipeline import commands, console, lint, lint_cache, lint_view
from pipeline.errors import UserError

COUNT = "import pathlib, sys; p = pathlib.Path(sys.argv[1]); p.write_text(p.read_text() + 'x' if p.exists() else 'x')"


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "checkout"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("one\n")
    return root


def counting(name: str, tmp_path: Path, *, fail: bool = False, tools=()) -> lint.Check:
    """A check that records each run in <tmp>/<name>.runs and exits 1 when ``fail``."""
    script = COUNT + ("; print('finding: src/a.txt'); sys.exit(1)" if fail else "")
    return lint.Check(name, (sys.executable, "-c", script, str(tmp_path / f"{name}.runs")), ("src/*",), tools)


def runs(tmp_path: Path, name: str) -> int:
    path = tmp_path / f"{name}.runs"
    return len(path.read_text()) if path.exists() else 0


def test_unchanged_inputs_are_answered_from_the_cache(checkout, tmp_path):
    check = counting("count", tmp_path, fail=True)
    first = lint.run_all([check], checkout)
    second = lint.run_all([check], checkout)
    assert runs(tmp_path, "count") == 1
    assert (first[0].cached, second[0].cached) == (False, True)
    assert not second[0].ok and "finding: src/a.txt" in second[0].output  # a cached failure still shows its findings
    assert (checkout / ".cache" / "lint" / "count").is_dir()


def test_a_changed_input_file_runs_the_check_again(checkout, tmp_path):
    check = counting("count", tmp_path)
    lint.run_all([check], checkout)
    (checkout / "src" / "a.txt").write_text("two\n")
    assert not lint.run_all([check], checkout)[0].cached
    (checkout / "src" / "b.txt").write_text("new file\n")
    assert not lint.run_all([check], checkout)[0].cached
    assert runs(tmp_path, "count") == 3
    (checkout / "elsewhere.txt").write_text("not an input\n")
    assert lint.run_all([check], checkout)[0].cached


def test_changing_the_input_back_hits_the_earlier_entry(checkout, tmp_path):
    """Entries are kept per key, so switching a branch back and forth is not linted twice."""
    check = counting("count", tmp_path)
    lint.run_all([check], checkout)
    (checkout / "src" / "a.txt").write_text("two\n")
    lint.run_all([check], checkout)
    (checkout / "src" / "a.txt").write_text("one\n")
    assert lint.run_all([check], checkout)[0].cached
    assert runs(tmp_path, "count") == 2


def test_no_cache_runs_every_check_and_refreshes_the_cache(checkout, tmp_path):
    check = counting("count", tmp_path)
    lint.run_all([check], checkout)
    forced = lint.run_all([check], checkout, use_cache=False)
    assert not forced[0].cached and runs(tmp_path, "count") == 2
    assert lint.run_all([check], checkout)[0].cached


def _install_fake_tool(site: Path, version: str) -> None:
    for old in site.glob("faketool-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    info = site / f"faketool-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: faketool\nVersion: {version}\n")
    (info / "RECORD").write_text(f"faketool/__init__.py,sha256=v{version},1\n")


def test_an_upgraded_tool_is_never_served_from_the_cache(checkout, tmp_path, monkeypatch):
    site = tmp_path / "site"
    _install_fake_tool(site, "1.0")
    monkeypatch.syspath_prepend(str(site))
    check = counting("count", tmp_path, tools=("faketool",))
    lint.run_all([check], checkout)
    assert lint.run_all([check], checkout)[0].cached
    assert lint_cache.tool_identity("faketool").startswith("1.0 ")
    _install_fake_tool(site, "2.0")
    assert lint_cache.tool_identity("faketool").startswith("2.0 ")
    assert not lint.run_all([check], checkout)[0].cached
    assert runs(tmp_path, "count") == 2


def test_an_upgraded_dependency_of_a_tool_is_not_served_either(checkout, tmp_path, monkeypatch):
    """The key also covers every distribution installed beside the tool (a check's verdict depends on them)."""
    site = tmp_path / "site"
    _install_fake_tool(site, "1.0")
    monkeypatch.syspath_prepend(str(site))
    check = counting("count", tmp_path)  # names no tool at all
    lint.run_all([check], checkout)
    _install_fake_tool(site, "1.1")
    assert not lint.run_all([check], checkout)[0].cached


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "",  # empty
        lambda text: "[1, 2]",  # valid JSON, wrong shape
        lambda text: json.dumps({**json.loads(text), "key": "0" * 64}),  # an entry of another key
        lambda text: json.dumps({**json.loads(text), "ok": "yes"}),  # wrong type
        lambda text: json.dumps({**json.loads(text), "format": 0}),  # an older layout
    ],
    ids=["truncated", "empty", "wrong-shape", "wrong-key", "wrong-type", "old-format"],
)
def test_a_corrupt_entry_is_rebuilt_not_trusted(checkout, tmp_path, damage):
    check = counting("count", tmp_path, fail=True)
    lint.run_all([check], checkout)
    (entry,) = (checkout / ".cache" / "lint" / "count").glob("*.json")
    entry.write_text(damage(entry.read_text()))
    rerun = lint.run_all([check], checkout)
    assert not rerun[0].cached and not rerun[0].ok and runs(tmp_path, "count") == 2
    assert json.loads(entry.read_text())["ok"] is False  # rebuilt with the real verdict
    assert lint.run_all([check], checkout)[0].cached


def test_a_missing_tool_is_reported_and_never_cached(checkout):
    check = lint.Check("absent", (str(checkout / "no-such-tool"),), ("src/*",))
    for _ in range(2):
        (result,) = lint.run_all([check], checkout)
        assert not result.ok and not result.cached and "is not installed" in result.output
    assert not (checkout / ".cache" / "lint" / "absent").exists()


def test_uncached_checks_run_at_the_same_time(checkout, tmp_path):
    """Each check waits for the other's marker file: run one after the other, the first would time out."""
    wait = (
        "import pathlib, sys, time; mine, theirs = map(pathlib.Path, sys.argv[1:3]); mine.touch(); "
        "deadline = time.monotonic() + 60\n"
        "while not theirs.exists():\n"
        "    if time.monotonic() > deadline: sys.exit('the other check never started')\n"
        "    time.sleep(0.01)"
    )
    a, b = tmp_path / "a.started", tmp_path / "b.started"
    pair = [
        lint.Check("a", (sys.executable, "-c", wait, str(a), str(b)), ("src/*",)),
        lint.Check("b", (sys.executable, "-c", wait, str(b), str(a)), ("src/*",)),
    ]
    results = lint.run_all(pair, checkout)
    assert [(r.check.name, r.ok) for r in results] == [("a", True), ("b", True)], [r.output for r in results]


def test_results_keep_the_table_order_and_cached_ones_skip_the_runner(checkout, tmp_path):
    first, second = counting("first", tmp_path), counting("second", tmp_path)
    lint.run_all([second], checkout)
    results = lint.run_all([first, second], checkout)
    assert [(r.check.name, r.cached) for r in results] == [("first", False), ("second", True)]


def test_the_project_checks_name_real_inputs_and_installed_tools():
    """Guards the check table: a check without inputs would be cached forever, a misspelt tool never keyed."""
    files = lint_cache.project_files(lint.ROOT)
    for check in lint.checks():
        assert lint_cache.matching(files, check.inputs), f"{check.name} reads no file of the checkout"
        for tool in check.tools:
            assert lint_cache.tool_identity(tool) != "not installed", f"{check.name}: {tool} is not installed"


def test_the_plain_view_prints_each_check_with_its_time_as_it_finishes(checkout, tmp_path):
    out = io.StringIO()
    view = lint_view.PlainView(console.make(out))
    checks = [counting("clean", tmp_path), counting("dirty", tmp_path, fail=True)]
    lint.run_all(checks, checkout, progress=view)
    lint.run_all(checks, checkout, progress=view)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "\x1b" not in out.getvalue()
    assert {line.split()[0] + " " + line.split()[1] for line in lines[:2]} == {"ok clean", "FAILED dirty"}
    assert all(line.rstrip().split()[2].replace(".", "").isdigit() for line in lines[:2])  # "0.1 s"
    assert all("cached (" in line for line in lines[2:])
    assert "finding: src/a.txt" in next(line for line in lines if "dirty" in line)


def test_lint_command_prints_findings_and_fails(checkout, tmp_path, monkeypatch, capsys):
    checks = [counting("clean", tmp_path), counting("dirty", tmp_path, fail=True)]
    monkeypatch.setattr(lint, "checks", lambda root=None: checks)
    monkeypatch.setattr(lint, "CACHE_DIR", checkout / ".cache" / "lint")  # absolute: the real checkout is untouched
    with pytest.raises(UserError, match="Lint failed: dirty"):
        commands.lint()
    out = capsys.readouterr().out
    assert "--- dirty ---\nfinding: src/a.txt" in out and "Lint: 2 checks, 1 failed, 0 from the cache" in out
    with pytest.raises(UserError):
        commands.lint()
    assert "2 from the cache" in capsys.readouterr().out
    with pytest.raises(UserError):
        commands.lint(use_cache=False)
    assert "0 from the cache" in capsys.readouterr().out
    assert (runs(tmp_path, "clean"), runs(tmp_path, "dirty")) == (2, 2)


def test_the_live_view_shows_running_checks_with_elapsed_time_and_finished_ones_with_theirs(tmp_path):
    """What a terminal shows mid-run: a spinner and the elapsed time, a tick and the time, or still waiting."""
    checks = [counting(name, tmp_path) for name in ("done", "running", "queued")]
    view = lint_view.LiveView(checks)
    view.started(checks[0])
    view.finished(lint.CheckResult(checks[0], True, 1.25, ""))
    view.started(checks[1])
    out = io.StringIO()
    console.make(out, environ={}).print(view)  # a StringIO is no TTY: plain rendering of the same rows
    rows = {line.split()[1]: line for line in out.getvalue().splitlines()}
    assert rows["done"].startswith("✓") and "1.2 s" in rows["done"]
    spinner, _, elapsed, unit = rows["running"].split()
    assert spinner not in "✓✗·" and float(elapsed) >= 0 and unit == "s"
    assert "waiting" in rows["queued"]
