"""Vendoring lambda/requirements.txt: uv when present, pip when uv is missing or fails, the same bytes either way.

No test reaches an index: the requirements name local wheels, uv runs with ``UV_OFFLINE`` and a cache in the
test's own folder, pip with ``PIP_NO_INDEX``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from tiny_wheel import tiny_wheel

from pipeline import commands, package, vendor
from pipeline.config import ROOT, resolve
from pipeline.errors import UserError

INSTALLER_RECORDS = ("INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # its own cache: tests stay independent
    monkeypatch.setenv("PIP_NO_INDEX", "1")


def _hash(path: Path) -> str:
    return f"--hash=sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"


def _lambda_with(tmp_path: Path, requirements: str) -> Path:
    code = tmp_path / "lambda"
    shutil.copytree(ROOT / "lambda", code, ignore=shutil.ignore_patterns("__pycache__"))
    (code / "requirements.txt").write_text(requirements)
    return code


def _program(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def _names(artifact: package.Artifact) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(artifact.body)).namelist()


def test_requirements_are_vendored_into_the_zip_reproducibly(tmp_path):
    code = _lambda_with(tmp_path, f"{tiny_wheel(tmp_path)}\n")
    first, second = package.build(code), package.build(code)
    names = _names(first)
    assert "tinypkg/__init__.py" in names and "handler.py" in names
    assert "tinypkg-1.0.dist-info/METADATA" in names and "tinypkg-1.0.dist-info/entry_points.txt" in names
    assert "requirements.txt" not in names
    assert first.body == second.body


def test_uv_is_what_vendors_when_present(tmp_path, monkeypatch):
    """A wrapper around the real uv logs its arguments: uv ran, in hash-checking mode, and pip never did."""
    real, log = vendor.find_uv(), tmp_path / "uv.log"
    wrapper = _program(tmp_path / "uv", f'echo "$@" >> {log}\nexec {real} "$@"')
    monkeypatch.setattr(vendor, "find_uv", lambda: wrapper)
    wheel = tiny_wheel(tmp_path)
    artifact = package.build(_lambda_with(tmp_path, f"{wheel} {_hash(wheel)}\n"))
    assert "tinypkg/__init__.py" in _names(artifact)
    assert artifact.note == ""  # the line saying pip stepped in
    arguments = log.read_text().split()
    assert arguments[:3] == ["pip", "install", "--quiet"] and "--require-hashes" in arguments
    assert arguments[arguments.index("--python-platform") + 1] == "x86_64-manylinux2014"


def test_a_failing_uv_falls_back_to_pip_for_the_same_bytes_and_says_so(tmp_path, monkeypatch, capsys):
    code = _lambda_with(tmp_path, f"{tiny_wheel(tmp_path)}\n")
    by_uv = package.build(code)
    failing = _program(tmp_path / "uv", 'echo "error: this uv is broken" >&2\nexit 2')
    monkeypatch.setattr(vendor, "find_uv", lambda: failing)
    settings = replace(resolve({}, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}), lambda_dir=code)
    by_pip = commands.build_artifact(settings)
    line = "Vendoring: uv exited 2: error: this uv is broken; installed requirements.txt with pip instead"
    assert line in by_pip.note and line in capsys.readouterr().err
    assert by_pip.body == by_uv.body  # so a fallback never changes the artifact's key


def test_what_the_installer_writes_about_itself_stays_out_and_record_lists_the_rest(tmp_path):
    code = _lambda_with(tmp_path, f"{tiny_wheel(tmp_path)}\n")
    archive = zipfile.ZipFile(io.BytesIO(package.build(code).body))
    names = archive.namelist()
    assert not [n for n in names if n.rsplit("/", 1)[-1] in INSTALLER_RECORDS or n.startswith(("bin/", ".lock"))]
    paths = [row.split(",")[0] for row in archive.read("tinypkg-1.0.dist-info/RECORD").decode().splitlines()]
    assert paths == sorted(paths) and "tinypkg/__init__.py" in paths
    assert set(paths) <= set(names)


def test_a_missing_uv_is_named_in_the_fallback_line(tmp_path, monkeypatch):
    monkeypatch.setattr(vendor, "find_uv", lambda: None)
    failure = vendor._uv_failure(tmp_path / "requirements.txt", tmp_path)
    assert failure == "uv was not found (beside Python, as the `uv` package, or on PATH)"


def test_uv_is_found_beside_python_then_through_the_uv_package_then_on_path(tmp_path, monkeypatch):
    import uv

    for folder in ("venv", "tools"):
        (tmp_path / folder).mkdir()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "python"))
    monkeypatch.setattr(uv, "find_uv_bin", lambda: "/from/the/uv/package")
    monkeypatch.setenv("PATH", str(tmp_path / "tools"))
    on_path = _program(tmp_path / "tools" / "uv", "exit 0")  # where astral-sh/setup-uv puts it
    assert vendor.find_uv() == "/from/the/uv/package"
    beside = _program(tmp_path / "venv" / "uv", "exit 0")
    assert vendor.find_uv() == beside

    def not_installed():
        raise FileNotFoundError

    (tmp_path / "venv" / "uv").unlink()
    monkeypatch.setattr(uv, "find_uv_bin", not_installed)
    assert vendor.find_uv() == on_path
    monkeypatch.setenv("PATH", str(tmp_path / "venv"))
    assert vendor.find_uv() is None


def test_no_uv_and_no_pip_says_what_to_install(tmp_path, monkeypatch):
    """A venv made by `uv venv` (as setup-uv's activate-environment makes it) has no pip to fall back on."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(vendor, "find_uv", lambda: None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "pip" else real(name, *rest))
    with pytest.raises(UserError) as raised:
        package.build(_lambda_with(tmp_path, f"{tiny_wheel(tmp_path)}\n"))
    assert "uv was not found (beside Python, as the `uv` package, or on PATH), and this Python has no pip" in str(
        raised.value
    )
    assert "`pip install uv`, or astral-sh/setup-uv in a workflow" in str(raised.value)


def test_uv_refuses_a_file_with_some_hashes_missing_as_pip_does(tmp_path):
    """pip's hash-checking mode is all or nothing; uv checks only the hashes it is given unless told otherwise."""
    hashed, bare = tiny_wheel(tmp_path), tiny_wheel(tmp_path, "otherpkg")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{hashed} {_hash(hashed)}\n{bare}\n")
    (tmp_path / "out").mkdir()
    failure = vendor._uv_failure(requirements, tmp_path / "out")
    assert failure is not None and "hash" in failure.lower()


def test_a_bad_requirements_file_is_one_clear_paragraph(tmp_path):
    code = _lambda_with(tmp_path, "no-such-package-for-lambda==1.0\n")
    with pytest.raises(UserError) as raised:
        package.build(code)
    message = str(raised.value)
    assert message.startswith(f"Installing {code / 'requirements.txt'} for the Lambda platform failed; uv exited")
    assert "no-such-package-for-lambda" in message and "pip said: ERROR:" in message
    assert message.endswith("and that each has a manylinux wheel for Python 3.13.")
    assert "\n" not in message
