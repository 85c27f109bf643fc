"""Compile the function's code before it is zipped: a syntax error is found here, never in a deployed function.

Only compiling, not importing: importing would run the handler's module-level code on the build machine.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import UserError

SKIP_DIRS = {"__pycache__", ".venv", "venv", "node_modules"}


def sources(lambda_dir: Path) -> list[Path]:
    return sorted(
        path for path in lambda_dir.rglob("*.py") if not SKIP_DIRS.intersection(path.relative_to(lambda_dir).parts)
    )


def check(lambda_dir: Path) -> int:
    """Compile every ``.py`` file under ``lambda_dir``; returns how many. Raises a UserError on the first failure."""
    files = sources(lambda_dir)
    for path in files:
        try:
            source = path.read_bytes()
            compile(source, str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:  # IndentationError and TabError are SyntaxErrors too
            where = f"{path}, line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
            shown = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
            raise UserError(
                f"{where}: {type(exc).__name__}: {exc.msg}{shown}. The function's code does not compile, so nothing "
                "was packaged, uploaded or deployed; fix the line and run the task again."
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:  # null bytes, undecodable source
            raise UserError(
                f"{path} is not valid Python source ({exc}). Nothing was packaged, uploaded or deployed; fix or "
                "remove the file and run the task again."
            ) from exc
    return len(files)
