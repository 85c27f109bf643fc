"""Fixtures for running the real tasks against the session's local cloud."""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import ROOT, resolve

_counter = itertools.count()


@pytest.fixture
def make_settings(endpoint, tmp_path):
    """Settings for a fresh stack on the local cloud, with a private copy of lambda/ to edit."""

    def make(**overrides):
        name = f"e2e{next(_counter)}"
        lambda_dir = tmp_path / f"lambda-{name}"
        shutil.copytree(ROOT / "lambda", lambda_dir, ignore=shutil.ignore_patterns("__pycache__"))
        config = {"environments": {name: {}}, "environment": name, "verify_timeout": 60}
        settings = resolve(config, env={"AWS_ENDPOINT_URL": endpoint})
        return replace(settings, lambda_dir=lambda_dir, **overrides)

    return make


def write_handler(lambda_dir: Path, body: str) -> None:
    (lambda_dir / "handler.py").write_text(body)


@pytest.fixture
def terminal(monkeypatch):
    """A pseudo-terminal: (its writing end as a text stream, the reading fd), in an interactive shell's env."""
    for name in ("NO_COLOR", "CI", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    main, side = os.openpty()
    stream = os.fdopen(side, "w", encoding="utf-8")
    yield stream, main
    stream.close()
    os.close(main)
