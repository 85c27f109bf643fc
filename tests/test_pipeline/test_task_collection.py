"""Collecting the tasks (`invoke --list`, `invoke --help TASK`) imports nothing heavy.

Measured by benchmarks/task_collection.py; here only what is imported is checked, never a time.
"""

from __future__ import annotations

import json
import subprocess
import sys

from pipeline.config import ROOT

# What collecting the tasks used to pull in: cfn-lint (with sympy and networkx), boto3, botocore, the localcloud.
HEAVY = ("cfnlint", "sympy", "networkx", "boto3", "botocore", "moto", "localcloud", "pipeline.commands", "rich")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_tasks_imports_nothing_heavy():
    loaded = _modules_after("import tasks")
    assert "tasks" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY) == []


def test_invoke_list_and_help_import_nothing_heavy():
    """The whole `invoke --list` / `invoke --help lint` process, as the user runs it."""
    for argv in (["--list"], ["--help", "lint"]):
        code = (
            "from invoke.main import program\n"
            "try:\n"
            f"    program.run(['invoke', *{argv!r}], exit=False)\n"
            "except SystemExit:\n"
            "    pass"
        )
        loaded = _modules_after(code)
        assert "tasks" in loaded, argv
        assert sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY) == [], argv


def test_a_task_still_imports_the_commands_it_runs():
    """The lazy import is inside the task body: running a task reaches pipeline.commands."""
    loaded = _modules_after(
        "from invoke.main import program\n"
        "try:\n"
        "    program.run(['invoke', 'environments', '--json'], exit=False)\n"
        "except SystemExit:\n"
        "    pass"
    )
    assert "pipeline.commands" in loaded
