"""`.ci/run`'s install: uv when it works, plain pip from the same requirements.txt when uv is missing or fails.

The install lines are cut out of `.ci/run` and run by bash with stand-ins for pip and uv that log their calls.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from pipeline.config import ROOT


def _install_block() -> str:
    script = (ROOT / ".ci" / "run").read_text()
    start = script.index("if ! { pip install")
    return script[start : script.index("\nfi\n", start) + 4]


def _stand_in(folder: Path, name: str, fail_when: str) -> None:
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "$CALLS"\ncase "$*" in *{fail_when}*) exit 1;; esac\nexit 0\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(
    ("pip_fails_on", "uv_fails_on", "expected"),
    [
        ("never", "never", ["pip install -q uv==", "uv pip install -r requirements.txt"]),
        ("uv==", "never", ["pip install -q uv==", "pip install -q -r requirements.txt"]),  # uv cannot install
        ("never", "requirements", ["pip install -q uv==", "uv pip install -r", "pip install -q -r requirements.txt"]),
    ],
    ids=["uv-works", "uv-missing", "uv-fails"],
)
def test_install_uses_uv_and_falls_back_to_pip_on_the_same_file(tmp_path, pip_fails_on, uv_fails_on, expected):
    _stand_in(tmp_path, "pip", pip_fails_on)
    _stand_in(tmp_path, "uv", uv_fails_on)
    calls = tmp_path / "calls"
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}/usr/bin:/bin", "CALLS": str(calls)}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", _install_block()], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    logged = [re.sub(r" --disable-pip-version-check", "", line) for line in calls.read_text().splitlines()]
    assert len(logged) == len(expected) and all(line.startswith(e) for line, e in zip(logged, expected, strict=True))
    assert ("plain pip" in done.stderr) == (expected[-1] == "pip install -q -r requirements.txt")
