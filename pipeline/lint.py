"""The offline lint suite: templates, Python, workflows and a policy-as-code scan, run side by side.

Each check is a command; a check passes only when its command exits 0. The same tools run from pre-commit
(``.pre-commit-config.yaml``); actionlint is there too but is left out here, because it cannot install offline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import ROOT


@dataclass(frozen=True)
class Check:
    name: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class CheckResult:
    check: Check
    ok: bool
    seconds: float
    output: str

    @property
    def summary(self) -> str:
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        if self.ok:
            return "clean"
        return lines[-1][:100] if lines else "failed with no output"


def _tool(name: str) -> str:
    """Prefer the tool installed next to this Python (the project's venv), then PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def checks(root: Path = ROOT) -> list[Check]:
    templates = sorted(str(p.relative_to(root)) for p in (root / "cloudformation").glob("*.yaml"))
    workflows = sorted(str(p.relative_to(root)) for p in (root / ".github" / "workflows").glob("*.y*ml"))
    return [
        Check("cfn-lint", (_tool("cfn-lint"), *templates)),
        Check(
            "checkov",
            (
                _tool("checkov"),
                "-d",
                "cloudformation",
                "--framework",
                "cloudformation",
                "--quiet",
                "--compact",
                "--skip-download",
            ),
        ),
        Check("ruff check", (_tool("ruff"), "check", ".")),
        Check("ruff format", (_tool("ruff"), "format", "--check", ".")),
        Check(
            "workflow schema", (_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows)
        ),
        Check("zizmor", (_tool("zizmor"), "--offline", "--no-progress", ".github/workflows")),
    ]


def run_check(check: Check, root: Path = ROOT) -> CheckResult:
    started = time.monotonic()
    try:
        done = subprocess.run(check.command, cwd=root, capture_output=True, text=True, check=False, timeout=600)
        ok, output = done.returncode == 0, done.stdout + done.stderr
    except FileNotFoundError:
        ok, output = False, f"{check.command[0]} is not installed: run `pip install -r requirements.txt`."
    return CheckResult(check, ok, time.monotonic() - started, output)


def run_all(selected: list[Check] | None = None, root: Path = ROOT) -> list[CheckResult]:
    """Run the checks concurrently (they are independent processes) and keep their order."""
    chosen = selected if selected is not None else checks(root)
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda c: run_check(c, root), chosen))
