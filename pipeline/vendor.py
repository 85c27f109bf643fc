"""Vendoring ``lambda/requirements.txt`` into a folder for the zip: with uv when it is there and works, else pip.

Both installers are asked for the same thing: wheels only, for Lambda's platform (manylinux2014 x86_64, CPython
3.13), into a target folder, without bytecode, and in hash-checking mode when the file carries hashes (pip turns
that on by itself; uv checks only the hashes it is given unless told ``--require-hashes``). uv does it in a tenth
of the time; pip stays the fallback, so a checkout without uv (or with a uv that fails) still packages. uv is
looked for beside this Python (a venv's), then as the ``uv`` package, then on PATH (where setup-uv puts it in CI).

What each installer writes about itself is then removed: ``INSTALLER``, ``REQUESTED``, ``direct_url.json``, uv's
``uv_cache.json`` and ``.lock``, and the console-script launchers in ``bin/`` (generated with this machine's
interpreter in their first line; Lambda never runs them), and ``RECORD`` keeps only the rows of what is left.
So uv and pip vendor the same bytes, and falling back to pip never changes the artifact's key.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.errors import UserError

LAMBDA_PYTHON = "3.13"
PIP_TARGETING = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", LAMBDA_PYTHON]
UV_TARGETING = ["--python-platform", "x86_64-manylinux2014", "--python-version", LAMBDA_PYTHON]
INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json"}  # in each *.dist-info
INSTALLER_ROOT_ENTRIES = ("bin", ".lock")


def find_uv() -> str | None:
    """The uv beside this Python (the venv's), else the ``uv`` package's, else the first on PATH (setup-uv's in CI)."""
    beside = shutil.which("uv", path=str(Path(sys.executable).parent))
    if beside:
        return beside
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):  # not installed as a package, or its binary is gone
        return shutil.which("uv")


def _hashed(requirements: Path) -> bool:
    """Whether pip would check hashes: a ``--hash`` option on any line (comments start at a ``#`` after a space)."""
    return "--hash" in re.sub(r"(^|\s)#.*", "", requirements.read_text(), flags=re.MULTILINE)


def uv_command(uv: str, requirements: Path, target: Path) -> list[str]:
    # --python: the interpreter uv reads markers from; the targeting flags then override its version and platform.
    command = [uv, "pip", "install", "--quiet", "--only-binary", ":all:", *UV_TARGETING, "--python", sys.executable]
    command += ["--require-hashes"] if _hashed(requirements) else []
    return [*command, "--target", str(target), "-r", str(requirements)]


def pip_command(requirements: Path, target: Path) -> list[str]:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    return [*command, "--only-binary=:all:", *PIP_TARGETING, "--target", str(target), "-r", str(requirements)]


def _run(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:  # not executable, gone since the lookup: a failure like any other
        return subprocess.CompletedProcess(command, 127, "", str(error))


def _gist(text: str) -> str:
    """The line of an installer's stderr that names the problem: its first error line, else its last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return (errors or lines or ["no message"])[0 if errors else -1][:300]


def _uv_failure(requirements: Path, target: Path) -> str | None:
    """Install with uv; None when that worked, else why it did not (for the one line saying pip stepped in)."""
    uv = find_uv()
    if uv is None:
        return "uv was not found (beside Python, as the `uv` package, or on PATH)"
    result = _run(uv_command(uv, requirements, target))
    if result.returncode == 0:
        return None
    return f"uv exited {result.returncode}: {_gist(result.stderr)}"


def _empty(folder: Path) -> None:
    """Remove what a failed install left, so the fallback starts from the same empty folder."""
    for entry in folder.iterdir():
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def _install_with_pip(requirements: Path, target: Path, failure: str) -> None:
    """The fallback, from an emptied folder; ``failure`` (why uv did not do it) goes into any error."""
    _empty(target)
    if importlib.util.find_spec("pip") is None:  # a venv made by `uv venv` has no pip
        raise UserError(
            f"Installing {requirements} for the Lambda platform failed: {failure}, and this Python has no pip "
            "to fall back on. Install (or repair) uv: `pip install uv`, or astral-sh/setup-uv in a workflow; "
            "or install pip. Then run this again."
        )
    result = _run(pip_command(requirements, target))
    if result.returncode != 0:
        raise UserError(
            f"Installing {requirements} for the Lambda platform failed; {failure}, and pip said: "
            f"{' '.join(result.stderr.split())[-600:]} "
            f"Check the package names and versions, and that each has a manylinux wheel for Python {LAMBDA_PYTHON}."
        )


def install(requirements: Path, target: Path) -> str:
    """Install ``requirements`` for Lambda into ``target``; returns "" after uv, or a line saying pip stepped in."""
    failure = _uv_failure(requirements, target)
    note = ""
    if failure is not None:
        _install_with_pip(requirements, target, failure)
        note = f"Vendoring: {failure}; installed {requirements.name} with pip instead (the same files, slower)."
    drop_installer_records(target)
    return note


def _kept_record(record: Path, target: Path) -> str:
    """RECORD without the rows of removed files (or of files outside the target, like pip's ``../../bin``)."""
    own = record.relative_to(target).as_posix()
    lines = record.read_text().splitlines()
    kept = []
    for line, row in zip(lines, csv.reader(lines), strict=False):
        path = row[0] if row else ""
        if path == own or (".." not in Path(path).parts and (target / path).is_file()):
            kept.append(line)
    return "".join(f"{line}\n" for line in sorted(kept))


def drop_installer_records(target: Path) -> None:
    """Remove what the installer wrote about itself (see the module), leaving what the wheels ship."""
    for name in INSTALLER_ROOT_ENTRIES:
        entry = target / name
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink(missing_ok=True)
    for info in target.glob("*.dist-info"):
        for name in INSTALLER_FILES:
            (info / name).unlink(missing_ok=True)
        record = info / "RECORD"
        if record.is_file():
            record.write_text(_kept_record(record, target))
