"""Running the ``invoke`` command line in tests: in this process by default, as a whole process when asked.

In process it is the same program ``python -m invoke`` runs (invoke's ``Program``: flag parsing, tasks.py
collection, invoke.yaml and ``INVOKE_*`` config, the tasks' error boundary), with exactly the given environment,
working directory and an empty stdin, and its stdout, stderr and exit code captured. That skips the 0.3-0.5 s of
interpreter start-up and imports a subprocess costs. What only a real process shows (the interpreter printing an
uncaught traceback, signal handlers, ``--debug``'s logging set-up) is tested with ``whole_process=True``; every
exit path keeps such a test.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

from pipeline.config import ROOT

# Global state a run may change and that the in-process path must leave as it found it: --debug (invoke's
# logging.basicConfig) and PIPELINE_DEBUG only ever run as a whole process.
DEBUG_ARGS = ("--debug", "-d")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without AWS_, PIPELINE_ and INVOKE_ settings, no AWS config, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE_", "INVOKE_"))}
    env.update(
        {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}
    )
    env.update(extra or {})
    return env


def run(
    args: tuple[str, ...] | list[str],
    *,
    env: Mapping[str, str],
    cwd: Path = ROOT,
    whole_process: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``invoke ARGS`` with exactly ``env`` in ``cwd``: (returncode, stdout, stderr) as ``subprocess.run`` gives."""
    if whole_process or any(a in DEBUG_ARGS for a in args) or env.get("PIPELINE_DEBUG"):
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args],
            cwd=cwd,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    out, err = io.StringIO(), io.StringIO()
    with _process_state(env, cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _run_program(list(args))
    return subprocess.CompletedProcess(["invoke", *args], code, out.getvalue(), err.getvalue())


def _run_program(args: list[str]) -> int:
    """Run invoke's program as its ``__main__`` does, turning its exit into a code as the interpreter would."""
    from invoke import Program, __version__

    program = Program(name="Invoke", binary="inv[oke]", binary_names=["invoke", "inv"], version=__version__)
    try:
        program.run(["invoke", *args])
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        return 1
    return 0


@contextlib.contextmanager
def _process_state(env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    """Environment, cwd, stdin, sys.path and the ``tasks`` module as a fresh process would have them; restored."""
    saved_env, saved_cwd, saved_path = dict(os.environ), os.getcwd(), list(sys.path)
    saved_tasks, saved_stdin = sys.modules.get("tasks"), sys.stdin
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.modules.pop("tasks", None)
    try:
        with open(os.devnull, encoding="utf-8") as stdin:
            sys.stdin = stdin
            yield
    finally:
        sys.stdin = saved_stdin
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        sys.modules.pop("tasks", None)
        if saved_tasks is not None:
            sys.modules["tasks"] = saved_tasks
