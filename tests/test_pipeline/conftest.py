"""Fixtures for running the real tasks against the session's local cloud."""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.config import ROOT, resolve

_counter = itertools.count()


@pytest.fixture
def make_settings(endpoint, tmp_path):
    """Settings for a fresh stack on the local cloud, with a private copy of lambda/ to edit."""

    def make(**overrides):
        # Fixed width: names of one length wrap alike on a terminal, so two runs' screens differ only in what
        # test_overlap masks (e2e9 -> e2e10 moved the artifact line's wrap and failed it, in a full suite).
        name = f"e2e{next(_counter):03d}"
        lambda_dir = tmp_path / f"lambda-{name}"
        shutil.copytree(ROOT / "lambda", lambda_dir, ignore=shutil.ignore_patterns("__pycache__"))
        config = {"environments": {name: {}}, "environment": name, "verify_timeout": 60}
        settings = resolve(config, env={"AWS_ENDPOINT_URL": endpoint})
        return replace(settings, lambda_dir=lambda_dir, **overrides)

    return make


def write_handler(lambda_dir: Path, body: str) -> None:
    (lambda_dir / "handler.py").write_text(body)


@pytest.fixture
def cfn():
    """A CloudFormation client and its Stubber: AWS answers no emulator gives (recorded shapes, scripted)."""
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


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
