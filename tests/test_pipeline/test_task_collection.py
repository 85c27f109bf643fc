"""Collecting the tasks (`invoke --list`, `invoke --help TASK`) imports nothing heavy.

Measured by benchmarks/task_collection.py; here only what is imported is checked, never a time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.config import ROOT

# What collecting the tasks used to pull in: cfn-lint (with sympy and networkx), boto3, botocore, the localcloud.
HEAVY = ("cfnlint", "sympy", "networkx", "boto3", "botocore", "moto", "localcloud", "pipeline.commands", "rich")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


COLLECTING = """
import contextlib, io, json, sys
from invoke.main import program
found = {}
import tasks
found["import tasks"] = [sorted(sys.modules), ""]
for argv in (["--list"], ["--help", "lint"]):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            program.run(["invoke", *argv], exit=False)
        except SystemExit:
            pass
    found[" ".join(argv)] = [sorted(sys.modules), printed.getvalue()]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def collected() -> dict[str, tuple[set[str], str]]:
    """One fresh process: what is imported (and printed) after ``import tasks``, then after ``invoke --list``, then
    after ``invoke --help lint`` as well (each set includes the ones before, so nothing heavy in it clears them
    all)."""
    done = subprocess.run([sys.executable, "-c", COLLECTING], cwd=ROOT, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {step: (set(names), printed) for step, (names, printed) in found.items()}


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY)


def test_importing_tasks_imports_nothing_heavy(collected):
    loaded, _ = collected["import tasks"]
    assert "tasks" in loaded
    assert _heavy(loaded) == []


@pytest.mark.parametrize(("step", "shown"), [("--list", "pipeline"), ("--help lint", "Run cfn-lint, checkov")])
def test_invoke_list_and_help_import_nothing_heavy(collected, step, shown):
    """The `invoke --list` / `invoke --help lint` program, as the user runs it: it shows the tasks it collected."""
    loaded, printed = collected[step]
    assert shown in printed, printed
    assert _heavy(loaded) == [], step


def test_a_task_still_imports_the_commands_it_runs():
    """The lazy import is inside the task body: running a task (deploy, refused at its settings) reaches
    pipeline.commands."""
    loaded = _modules_after(
        "from invoke.main import program\n"
        "try:\n"
        "    program.run(['invoke', 'deploy', '--environment', 'nope'], exit=False)\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert "pipeline.commands" in loaded
