"""invoke lint's parliament check (pipeline/iam_lint.py): every IAM policy the templates render is analysed, and a
finding passes only when the template explains it, as checkov's in-template skips do."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import iam_lint, lint

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "cloudformation").glob("*.yaml"))


def run(*paths: Path) -> subprocess.CompletedProcess:
    """The check's ``main`` in this process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = iam_lint.main([str(p) for p in paths])
    return subprocess.CompletedProcess(["iam_lint", *map(str, paths)], code, out.getvalue(), "")


def test_every_template_is_clean_or_explained():
    """`invoke lint`'s own parliament check (``python -m pipeline.iam_lint`` on the templates), through its runner:
    served from the lint cache when neither its inputs nor parliament changed since it last ran, else run now."""
    (check,) = [c for c in lint.checks() if c.name == "parliament"]
    (result,) = lint.run_all([check])
    assert result.ok, result.output
    assert "parliament: 0 unexplained findings, 0 stale skips in 3 templates" in result.output


def test_it_reads_the_templates_without_importing_cfn_lint():
    """cfn-lint's loader imports sympy and networkx (0.6 s of CPU in every fresh `invoke lint`); the deploy's
    short-form loader reads the same structure."""
    script = (
        "import sys; from pipeline import iam_lint; code = iam_lint.main(sys.argv[1:]); "
        "print('imported:', sorted(m for m in ('cfnlint', 'sympy', 'networkx') if m in sys.modules)); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, TEMPLATES)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "imported: []" in done.stdout


def test_it_is_one_of_the_lint_checks():
    (check,) = [c for c in lint.checks() if c.name == "parliament"]
    assert check.command[1:3] == ("-m", "pipeline.iam_lint")
    assert {Path(p).name for p in check.command[3:]} == {p.name for p in TEMPLATES}
    assert "cloudformation/*" in check.inputs and "parliament" in check.tools


def _copy(tmp_path: Path, edit) -> Path:
    path = tmp_path / "bootstrap-environment.yaml"
    shutil.copy(ROOT / "cloudformation" / "bootstrap-environment.yaml", path)
    path.write_text(edit(path.read_text()))
    return path


def test_without_its_explanations_the_findings_fail_the_check(tmp_path):
    """The four findings the security review saw (PutBucketPolicy/PutLifecycleConfiguration on the uploads
    bucket) are really reported; only the template's skips let them pass."""
    text = (ROOT / "cloudformation" / "bootstrap-environment.yaml").read_text()
    start, end = (
        text.index("    Metadata:\n      parliament:"),
        text.index('    Properties:\n      Description: !Sub "CloudFormation'),
    )
    path = _copy(tmp_path, lambda t: t[:start] + t[end:])
    done = run(path)
    assert done.returncode == 1
    assert done.stdout.count("RESOURCE_POLICY_PRIVILEGE_ESCALATION") == 4
    assert "due to s3:PutObject not being allowed, but does allow s3:PutBucketPolicy" in done.stdout


def test_a_new_finding_fails_and_a_stale_skip_is_reported(tmp_path):
    typo = _copy(tmp_path, lambda t: t.replace("- s3:GetObjectVersion\n", "- s3:GetObjectVersoin\n", 1))
    done = run(typo)
    assert done.returncode == 1 and "UNKNOWN_ACTION" in done.stdout, done.stdout
    stale = _copy(tmp_path, lambda t: t.replace("            sid: DescribeLogGroups\n", "            sid: NoSuchSid\n"))
    done = run(stale)
    assert done.returncode == 1  # the finding it explained is back, and the skip explains nothing
    assert "the parliament skip of RESOURCE_MISMATCH (NoSuchSid) explains no finding any more" in done.stdout


def test_a_skip_must_say_why():
    with pytest.raises(ValueError, match="needs an issue and a comment"):
        iam_lint._skips({"Metadata": {"parliament": {"skip": [{"issue": "RESOURCE_MISMATCH"}]}}})


def test_the_renderer_keeps_both_branches_of_a_conditional_statement():
    from cfnlint.decode import cfn_yaml

    template = cfn_yaml.loads((ROOT / "cloudformation" / "bootstrap-environment.yaml").read_text())
    docs = {(r, w): d for r, w, d in iam_lint.documents(template)}
    policy = docs[("ExecutionRole", "own-environment-stack-resources")]
    (add_permission,) = [s for s in policy["Statement"] if s["Sid"] == "OwnFunctionInvokedByS3Only"]
    assert add_permission["Condition"] == {"StringEquals": {"lambda:Principal": "s3.amazonaws.com"}}
    assert all("Fn::" not in str(d) and "${" not in str(d) for d in docs.values())
