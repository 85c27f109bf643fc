"""How the README's test command runs: pytest-xdist from pyproject.toml, ``-n auto`` as tests/conftest.py sets it."""

from __future__ import annotations

import os
import tomllib

from pipeline.config import ROOT


def test_pyproject_runs_the_suite_on_xdist_keeping_each_file_on_one_worker():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "-n auto" in options["addopts"] and "--dist loadfile" in options["addopts"]
    assert options["testpaths"] == ["tests"]


def test_auto_is_one_worker_more_than_the_cores(pytestconfig, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    workers = pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig)
    assert workers == len(os.sched_getaffinity(0)) + 1


def test_xdists_own_variable_still_decides(pytestconfig, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "5")
    assert pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig) == 5
