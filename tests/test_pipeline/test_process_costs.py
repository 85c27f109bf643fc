"""What an ``invoke`` process spends around its work: lint's checks start before the heavy imports, and the
top-level command ends without the interpreter's teardown (``pipeline.quick_exit``), with the same output and code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import invoke_cli
import pytest

import pipeline
from pipeline import lint as lint_step
from pipeline import quick_exit
from pipeline.config import ROOT
from pipeline.errors import UserError

SLEEPER = lint_step.Check("sleeper", (sys.executable, "-c", "import time; time.sleep(60)"))
ECHO = lint_step.Check("echo", (sys.executable, "-c", "print('checked')"))


def test_begin_starts_the_checks_and_run_all_collects_them(tmp_path):
    with lint_step.begin([ECHO], tmp_path) as begun:
        running = begun.running["echo"].process
        assert running is not None  # started already, before anyone asked for its result
        (result,) = lint_step.run_all(started=begun)
    assert result.ok and result.output == "checked\n" and not begun.running
    with lint_step.begin([ECHO], tmp_path) as again:  # the result was cached: nothing starts
        assert again.all_cached and lint_step.run_all(started=again)[0].cached


def test_a_check_not_collected_when_the_block_ends_is_killed(tmp_path):
    with pytest.raises(UserError), lint_step.begin([SLEEPER], tmp_path, use_cache=False) as begun:
        process = begun.running["sleeper"].process
        raise UserError("the task failed before lint's results were read")
    assert process.returncode is not None  # killed and reaped, not left running


@pytest.mark.parametrize("task", ["lint", "pipeline"])
def test_lint_begins_before_the_task_imports_its_commands(task, monkeypatch, endpoint):
    """``pipeline.commands`` (boto3 and the rest) is imported only after the checks have started."""
    seen = []

    def begin(**_options):
        seen.append("pipeline.commands" in sys.modules)
        raise UserError("stop here: only the order is tested")

    monkeypatch.delitem(sys.modules, "pipeline.commands", raising=False)
    monkeypatch.delattr(pipeline, "commands", raising=False)
    monkeypatch.setattr(lint_step, "begin", begin)
    done = invoke_cli.run([task], env=invoke_cli.clean_env({"AWS_ENDPOINT_URL": endpoint}))
    assert seen == [False] and done.returncode == 1 and "stop here" in done.stderr


# -- the exit ---------------------------------------------------------------------------------------------------
# `python -m invoke` as the user runs it, with a sitecustomize (run at start-up, before invoke) holding an
# object that reports the interpreter's teardown, and an atexit handler that reports the exit's handlers.
WITNESS = """
import atexit, os
class Teardown:
    def __del__(self):
        os.write(2, b"torn down\\n")
witness = Teardown()
atexit.register(lambda: os.write(2, b"atexit ran\\n"))
"""


@pytest.fixture
def top_level(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(WITNESS)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args],
            cwd=ROOT,
            env={**invoke_cli.clean_env(), "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_the_witness_sees_a_normal_exit_s_teardown(tmp_path):
    """So its silence below means something: a plain ``python`` run with it ends with both lines."""
    (tmp_path / "sitecustomize.py").write_text(WITNESS)
    env = {**invoke_cli.clean_env(), "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", "pass"], env=env, capture_output=True, text=True, check=True)
    assert done.stderr == "atexit ran\ntorn down\n"


def test_the_top_level_command_ends_without_teardown_with_its_output_and_exit_code(top_level):
    in_process = invoke_cli.run(["environments"], env=invoke_cli.clean_env())
    done = top_level("environments")
    assert (done.returncode, done.stdout) == (in_process.returncode, in_process.stdout) == (0, in_process.stdout)
    assert "staging" in done.stdout  # written to a pipe, so flushed before the exit
    assert done.stderr == "atexit ran\n"  # the exit's handlers ran; the teardown did not


def test_a_failed_task_ends_the_same_way_with_its_code_and_its_paragraph(top_level):
    args = ["deploy", "--environment", "nope"]
    in_process = invoke_cli.run(args, env=invoke_cli.clean_env())
    done = top_level(*args)
    assert done.returncode == in_process.returncode != 0
    assert done.stderr == in_process.stderr + "atexit ran\n"
    assert "Unknown environment 'nope'" in done.stderr and "Traceback" not in done.stderr


def test_inside_another_program_nothing_is_installed_and_the_process_goes_on():
    """The tests' in-process CLI (its own Program), and a script running invoke's program with ``exit=False``."""
    assert quick_exit.top_level_program() is None
    assert invoke_cli.run(["environments"], env=invoke_cli.clean_env()).returncode == 0
    script = "from invoke.main import program\nprogram.run(['invoke', 'environments'], exit=False)\nprint('still here')"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.endswith("still here\n")


def test_a_thread_still_running_keeps_the_normal_exit():
    release = threading.Event()
    running = threading.Thread(target=release.wait)
    running.start()
    try:
        quick_exit.leave(0)  # returns: exiting now would cut the thread off
    finally:
        release.set()
        running.join()
