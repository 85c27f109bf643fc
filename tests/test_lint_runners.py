"""The modules `invoke lint` runs its Python tools through: pipeline/checkov_scan.py (checkov's CloudFormation
scan through its API) and pipeline/run_tool.py (a tool's command in this process). That the scan finds what the
checkov command finds on the project's templates is in tests/test_templates.py."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import checkov_scan, lint, run_tool

ROOT = Path(__file__).resolve().parent.parent

BUCKET = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Plain:
    Type: AWS::S3::Bucket
{metadata}"""
SKIP_VERSIONING = """    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_21
            comment: a scratch bucket whose objects are rebuilt from git, so old versions are worth nothing
"""


def scan(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    """The scan as `invoke lint` runs it, as a whole process from ``folder`` (where it reads .checkov.yaml)."""
    command = [sys.executable, "-m", "pipeline.checkov_scan", *arguments, "templates"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, check=False)


@pytest.fixture
def scan_here(monkeypatch):
    """The scan's ``main`` in this process, from a folder: its printed report and exit status. checkov's import
    (1.4 s of CPU) is paid once per worker instead of once per scan; the whole process, with its output flushed
    and its exit status through ``os._exit``, is the refused setting's (which never imports checkov)."""

    def run(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
        monkeypatch.chdir(folder)
        monkeypatch.setenv("CHECKOV_PARALLELIZATION_TYPE", "none")  # what main() would set in this process
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = checkov_scan.main([*arguments, "templates"])
        return subprocess.CompletedProcess(["checkov_scan", *arguments], code, out.getvalue(), "")

    return run


def test_the_scan_fails_on_a_failed_check_and_on_a_template_it_cannot_parse(tmp_path, scan_here):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "bucket.yaml").write_text(BUCKET.format(metadata=""))
    (tmp_path / "templates" / "broken.yaml").write_text("Resources:\n  A: [unclosed\n")
    done = scan_here(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CKV_AWS_21" in done.stdout and "AWS::S3::Bucket.Plain" in done.stdout  # versioning, and where
    assert "could not parse templates/broken.yaml" in done.stdout and "1 parsing errors" in done.stdout


def test_in_template_skips_and_the_config_files_skip_check_both_apply(tmp_path, scan_here):
    """Every check a plain bucket fails is skipped: versioning in the template (with its reason), the rest in
    .checkov.yaml, so the scan passes and reports the skips."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "bucket.yaml").write_text(BUCKET.format(metadata=SKIP_VERSIONING))
    failing = scan_here(tmp_path, "--json")
    failed = {c["check_id"] for c in json.loads(failing.stdout)["results"]["failed_checks"]}
    assert failing.returncode == 1 and failed and "CKV_AWS_21" not in failed
    (tmp_path / ".checkov.yaml").write_text(
        "skip-download: true\nskip-check:\n" + "".join(f"  - {i}\n" for i in failed)
    )
    done = scan_here(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed, 1 skipped in the templates" in done.stdout


def test_a_setting_the_scan_would_ignore_is_refused(tmp_path):
    """As a whole process: what it printed is flushed before ``os._exit`` passes its status on."""
    (tmp_path / "templates").mkdir()
    (tmp_path / ".checkov.yaml").write_text("soft-fail: true\n")
    done = scan(tmp_path)
    assert done.returncode == 2
    assert ".checkov.yaml sets soft-fail, which pipeline.checkov_scan does not apply" in done.stdout


def test_run_tool_passes_the_tools_arguments_and_exit_status_on(tmp_path, monkeypatch):
    """A tool's ``sys.exit(0)`` in this process (``run``), then a whole process ending through ``os._exit``."""
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # run() sets the tool's argv
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_tool.run("check-jsonschema", ["--version"]) == 0
    assert "check-jsonschema, version" in out.getvalue()
    found = subprocess.run(
        [sys.executable, "-m", "pipeline.run_tool", "cfn-lint", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 2 and "E0003" in found.stdout  # cfn-lint's own status for a file it cannot read


def test_a_tool_run_tool_cannot_find_is_reported_and_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the checkout here is a temporary folder
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("x\n")
    check = lint.Check("absent", (sys.executable, "-m", "pipeline.run_tool", "no-such-tool"), ("src/*",))
    for _ in range(2):
        (result,) = lint.run_all([check], tmp_path)
        assert not result.ok and not result.cached, result.output
        assert "no-such-tool is not installed: run `pip install -r requirements.txt`." in result.output
    assert not (tmp_path / ".cache" / "lint" / "absent").exists()
