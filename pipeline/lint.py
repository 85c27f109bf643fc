"""The offline lint suite: templates, Python, workflows and a policy-as-code scan, run side by side.

Each check is a command; a check passes only when its command exits 0. The same tools run from pre-commit
(``.pre-commit-config.yaml``); actionlint is there too but is left out here, because it cannot install offline.

A result is cached under a digest of the check's inputs and tools (``pipeline.lint_cache``), so a check runs
once per change, whichever task asked for it. The checks that are not cached run at the same time, each in its
own process, started by ``begin`` and collected by ``run_all``: ``invoke pipeline`` and ``invoke lint`` begin
before their other imports (boto3 and the rest), so the checks run meanwhile. The Python tools (cfn-lint,
checkov, parliament, check-jsonschema) run through small modules of ours that call them through their Python API
and skip what only costs time (see each module). To add a check, add one ``Check`` line to ``checks()``: its
command, the files it reads and the distributions it runs.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pipeline import lint_cache
from pipeline.config import ROOT

NOT_INSTALLED = 127  # pipeline.run_tool and pipeline.checkov_scan exit so when their tool is missing
CACHE_DIR = Path(".cache") / "lint"  # in the checkout, ignored by git
TIMEOUT = 600  # seconds one check may take


@dataclass(frozen=True)
class Check:
    name: str
    command: tuple[str, ...]
    inputs: tuple[str, ...] = ()  # patterns of the files it reads (``*`` crosses folders); they key its cache
    tools: tuple[str, ...] = ()  # the distributions whose version decides its result


@dataclass(frozen=True)
class CheckResult:
    check: Check
    ok: bool
    seconds: float  # how long the check took when it ran (for a cached result, when it last ran)
    output: str
    cached: bool = False

    @property
    def summary(self) -> str:
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        if self.ok:
            return "clean"
        return lines[-1][:100] if lines else "failed with no output"


class Progress(Protocol):
    """What a view of the lint run is told; ``started`` and ``finished`` come from worker threads."""

    def started(self, check: Check) -> None: ...

    def finished(self, result: CheckResult) -> None: ...


class _Silent:
    def started(self, check: Check) -> None:
        pass

    def finished(self, result: CheckResult) -> None:
        pass


def _tool(name: str) -> str:
    """Prefer the tool installed next to this Python (the project's venv), then PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def _in_process(module: str) -> tuple[str, ...]:
    """A check run by a module of ours with this Python: it calls the tool's API rather than its command."""
    return (sys.executable, "-m", module)


def checks(root: Path = ROOT) -> list[Check]:
    templates = sorted(str(p.relative_to(root)) for p in (root / "cloudformation").glob("*.yaml"))
    workflows = sorted(str(p.relative_to(root)) for p in (root / ".github" / "workflows").glob("*.y*ml"))
    python = ("*.py", "*.pyi", "*.ipynb", "pyproject.toml", "ruff.toml", ".ruff.toml")
    schema = ("--builtin-schema", "vendor.github-workflows")
    return [
        Check(
            "cfn-lint",
            (*_in_process("pipeline.run_tool"), "cfn-lint", *templates),
            ("cloudformation/*", ".cfnlintrc*", "pipeline/run_tool.py"),
            ("cfn-lint",),
        ),
        Check(
            "checkov",
            (*_in_process("pipeline.checkov_scan"), "cloudformation"),
            ("cloudformation/*", ".checkov.y*ml", "pipeline/checkov_scan.py"),
            ("checkov",),
        ),
        Check(
            "parliament",
            (*_in_process("pipeline.iam_lint"), *templates),
            ("cloudformation/*", "pipeline/iam_lint.py", "pipeline/template.py"),
            ("parliament",),
        ),
        Check("ruff check", (_tool("ruff"), "check", "."), python, ("ruff",)),
        Check("ruff format", (_tool("ruff"), "format", "--check", "."), python, ("ruff",)),
        Check(
            "workflow schema",
            (*_in_process("pipeline.run_tool"), "check-jsonschema", *schema, *workflows),
            (*workflows, "pipeline/run_tool.py"),
            ("check-jsonschema",),
        ),
        Check(
            "zizmor",
            (_tool("zizmor"), "--offline", "--no-progress", ".github/workflows"),
            (".github/workflows/*", "zizmor.y*ml", ".github/zizmor.y*ml"),
            ("zizmor",),
        ),
    ]


def run_check(check: Check, root: Path = ROOT) -> CheckResult:
    """Run one check now, uncached."""
    return _finish(_launch(check, root))[0]


@dataclass
class _Running:
    check: Check
    process: subprocess.Popen | None  # None: it could not start (``missing`` says why)
    began: float
    missing: str = ""

    def stop(self) -> None:
        """Kill it if it still runs, and reap it (its pipes closed)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.communicate()


def _launch(check: Check, root: Path) -> _Running:
    began = time.monotonic()
    try:
        process = subprocess.Popen(check.command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        return _Running(
            check, None, began, f"{check.command[0]} is not installed: run `pip install -r requirements.txt`."
        )
    return _Running(check, process, began)


def _finish(running: _Running) -> tuple[CheckResult, bool]:
    """The result, and whether it may be cached: only a verdict of the tool itself, not a missing tool."""
    check, process = running.check, running.process
    if process is None:
        return CheckResult(check, False, 0.0, running.missing), False
    try:
        out, err = process.communicate(timeout=max(0.0, TIMEOUT - (time.monotonic() - running.began)))
    except subprocess.TimeoutExpired:
        running.stop()
        return CheckResult(check, False, TIMEOUT, f"{check.name} did not finish within {TIMEOUT} s."), False
    ok, cacheable = process.returncode == 0, process.returncode >= 0 and process.returncode != NOT_INSTALLED
    return CheckResult(check, ok, time.monotonic() - running.began, out + err), cacheable


def _keys(chosen: list[Check], root: Path) -> dict[str, str]:
    files = lint_cache.project_files(root)
    return {
        c.name: lint_cache.key(c.name, c.command, root, lint_cache.matching(files, c.inputs), c.tools) for c in chosen
    }


def all_cached(root: Path = ROOT) -> bool:
    """Whether every check would be answered from the cache, so lint takes no time worth overlapping."""
    chosen = checks(root)
    store = lint_cache.Cache(root / CACHE_DIR)
    return all(store.get(name, key) is not None for name, key in _keys(chosen, root).items())


@dataclass
class Started:
    """A lint run begun: its checks, the answers the cache had, and the other checks' running processes."""

    checks: list[Check]
    store: lint_cache.Cache
    keys: dict[str, str]
    began: float = field(default_factory=time.monotonic)
    cached: dict[str, CheckResult] = field(default_factory=dict)
    running: dict[str, _Running] = field(default_factory=dict)  # until ``run_all`` has collected each

    @property
    def all_cached(self) -> bool:
        return not self.running


@contextlib.contextmanager
def begin(selected: list[Check] | None = None, root: Path = ROOT, *, use_cache: bool = True) -> Iterator[Started]:
    """Answer each check from the cache where its key matches, and start the others' processes now.

    ``run_all(started=...)`` collects them. A process not collected when the block ends (the task failed before
    lint's results were read) is killed. ``use_cache=False`` (``--no-cache``) starts every check.
    """
    chosen = selected if selected is not None else checks(root)
    started = Started(chosen, lint_cache.Cache(root / CACHE_DIR), _keys(chosen, root))
    for check in chosen:
        entry = started.store.get(check.name, started.keys[check.name]) if use_cache else None
        if entry is not None:
            started.cached[check.name] = CheckResult(check, entry.ok, entry.seconds, entry.output, cached=True)
    try:
        for check in chosen:
            if check.name not in started.cached:
                started.running[check.name] = _launch(check, root)
        yield started
    finally:
        for running in list(started.running.values()):
            running.stop()


def run_all(
    selected: list[Check] | None = None,
    root: Path = ROOT,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
    started: Started | None = None,
) -> list[CheckResult]:
    """The results of every check, in order: from the cache where its key matches, the rest run concurrently.

    ``use_cache=False`` (``invoke lint --no-cache``) runs every check, and stores the fresh results. With
    ``started`` (``begin``), its checks, answered and started already, are collected instead.
    """
    if started is None:
        with begin(selected, root, use_cache=use_cache) as begun:
            return run_all(progress=progress, started=begun)
    view = progress or _Silent()
    results = dict(started.cached)
    for result in results.values():
        view.finished(result)

    def collect(running: _Running) -> CheckResult:
        view.started(running.check)
        result, cacheable = _finish(running)
        name = running.check.name
        if cacheable:
            started.store.put(name, started.keys[name], lint_cache.Entry(result.ok, result.output, result.seconds))
        started.running.pop(name, None)
        view.finished(result)
        return result

    pending = list(started.running.values())
    if pending:
        with ThreadPoolExecutor(max_workers=len(pending)) as pool:
            results.update((r.check.name, r) for r in pool.map(collect, pending))
    return [results[c.name] for c in started.checks]
