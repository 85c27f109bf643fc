"""The offline lint suite: templates, Python, workflows and a policy-as-code scan, run side by side.

Each check is a command; a check passes only when its command exits 0. The same tools run from pre-commit
(``.pre-commit-config.yaml``); actionlint is there too but is left out here, because it cannot install offline.

A result is cached under a digest of the check's inputs and tools (``pipeline.lint_cache``), so a check runs
once per change, whichever task asked for it. The checks that are not cached run at the same time, each in its
own process. The Python tools (cfn-lint, checkov, parliament, check-jsonschema) run through small modules of ours
that call them through their Python API and skip what only costs time (see each module). To add a check, add one
``Check`` line to ``checks()``: its command, the files it reads and the distributions it runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
    return _execute(check, root)[0]


def _execute(check: Check, root: Path) -> tuple[CheckResult, bool]:
    """The result, and whether it may be cached: only a verdict of the tool itself, not a missing tool."""
    started = time.monotonic()
    try:
        done = subprocess.run(check.command, cwd=root, capture_output=True, text=True, check=False, timeout=TIMEOUT)
        ok, output = done.returncode == 0, done.stdout + done.stderr
        cacheable = done.returncode >= 0 and done.returncode != NOT_INSTALLED  # our runners' "no such tool"
    except FileNotFoundError:
        ok, output, cacheable = (
            False,
            f"{check.command[0]} is not installed: run `pip install -r requirements.txt`.",
            False,
        )
    except subprocess.TimeoutExpired:
        ok, output, cacheable = False, f"{check.name} did not finish within {TIMEOUT} s.", False
    return CheckResult(check, ok, time.monotonic() - started, output), cacheable


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


def run_all(
    selected: list[Check] | None = None,
    root: Path = ROOT,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> list[CheckResult]:
    """Answer each check from the cache where its key matches, run the rest concurrently; keep their order.

    ``use_cache=False`` (``invoke lint --no-cache``) runs every check, and stores the fresh results.
    """
    chosen = selected if selected is not None else checks(root)
    view = progress or _Silent()
    store = lint_cache.Cache(root / CACHE_DIR)
    keys = _keys(chosen, root)
    results: dict[str, CheckResult] = {}
    for check in chosen:
        entry = store.get(check.name, keys[check.name]) if use_cache else None
        if entry is not None:
            results[check.name] = CheckResult(check, entry.ok, entry.seconds, entry.output, cached=True)
            view.finished(results[check.name])
    pending = [c for c in chosen if c.name not in results]

    def run(check: Check) -> CheckResult:
        view.started(check)
        result, cacheable = _execute(check, root)
        if cacheable:
            store.put(check.name, keys[check.name], lint_cache.Entry(result.ok, result.output, result.seconds))
        view.finished(result)
        return result

    if pending:
        with ThreadPoolExecutor(max_workers=len(pending)) as pool:
            results.update((r.check.name, r) for r in pool.map(run, pending))
    return [results[c.name] for c in chosen]
