"""Ending the ``invoke`` process as soon as its tasks are done, without the interpreter's teardown.

After the last task the interpreter still tears down every module it imported (boto3 and botocore's models,
rich, cfn-lint's rules): about 0.15 s that every deploy pays before a script or a person sees it end. Nothing
the tasks leave needs that teardown: the local cloud and its Lambda workers are stopped, and files closed, in
each task's own ``with`` blocks. So once invoke has run every task, ``leave`` does what an exit must (wait for
no thread, run the ``atexit`` handlers, so logging is flushed and temporary folders go, flush stdout and
stderr) and then calls ``os._exit`` with the exit code invoke would have used.

Only in the top-level command line: ``install`` does nothing unless this process's ``__main__`` is invoke's own
entry point (the ``invoke`` or ``inv`` script, ``python -m invoke``) running its ``program``, so a test or script
running the CLI inside its own process (``tests/test_pipeline/invoke_cli.py``, ``program.run(exit=False)``) is
never ended. And only when no other thread still runs: then the normal exit, which waits for it, is kept.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import Any

ENTRY_POINTS = ("invoke", "inv")  # the console scripts invoke installs


def top_level_program() -> Any | None:
    """invoke's ``program`` when this process is the ``invoke`` command itself, else None."""
    program = getattr(sys.modules.get("invoke.main"), "program", None)
    main = sys.modules.get("__main__")
    if program is None or getattr(main, "program", None) is not program:
        return None
    spec = getattr(main, "__spec__", None)
    script = os.path.basename(getattr(main, "__file__", None) or "")
    return program if (spec and spec.name == "invoke.__main__") or script in ENTRY_POINTS else None


def install() -> None:
    """Make the top-level ``invoke`` program leave at once after its tasks (successful or ended by ``Exit``)."""
    program = top_level_program()
    if program is None or getattr(program.execute, "leaves", False):
        return
    execute = program.execute

    def execute_then_leave() -> None:
        from invoke.exceptions import Exit

        try:
            execute()
        except Exit as exc:
            if not exc.message:  # invoke would only print the message and exit with the code
                leave(exc.code)
            raise
        leave(0)

    execute_then_leave.leaves = True  # type: ignore[attr-defined]
    program.execute = execute_then_leave


def leave(code: int | None) -> None:
    """Exit now with ``code``; return instead when another thread still runs (the normal exit waits for it)."""
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()  # what an exit runs before its teardown: logging.shutdown, tempfile's finalizers
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    os._exit(code or 0)
