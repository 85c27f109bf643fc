"""More of the tasks on the local cloud: preview, outputs, logs, job summaries, bootstrap (vendoring: test_vendor)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace

import pytest
from pipeline_helpers import broken_template, delete_stack_and_wait

from pipeline import bootstrap, cfn, commands, github
from pipeline.errors import StackFailed


def test_preview_of_a_new_stack_leaves_nothing_behind(make_settings, client, capsys):
    settings = make_settings()
    result = commands.deploy(settings, preview=True)
    assert result.outcome == "preview"
    assert {c.action for c in result.changes} == {"Add"}
    assert re.search(r"^\+ Add +UploadsBucket +AWS::S3::Bucket +-$", capsys.readouterr().out, re.MULTILINE)
    assert cfn.describe_stack(client("cloudformation"), settings.stack_name) is None


def test_preview_of_a_change_executes_nothing(make_settings, client):
    settings = make_settings()
    commands.deploy(settings)
    before = client("lambda").get_function(FunctionName=f"{settings.stack_name}-handler")["Configuration"]
    handler = settings.lambda_dir / "handler.py"
    handler.write_text(handler.read_text() + "\n# preview me\n")
    result = commands.deploy(settings, preview=True)
    assert [(c.action, c.logical_id) for c in result.changes] == [("Modify", "Function")]
    after = client("lambda").get_function(FunctionName=f"{settings.stack_name}-handler")["Configuration"]
    assert after["CodeSha256"] == before["CodeSha256"]
    pending = client("cloudformation").list_change_sets(StackName=settings.stack_name)["Summaries"]
    assert [c for c in pending if c["ExecutionStatus"] == "AVAILABLE"] == []  # the preview's change set is gone


def test_outputs_as_json(make_settings, capsys):
    settings = make_settings()
    deployed = commands.deploy(settings).outputs
    capsys.readouterr()
    commands.outputs(settings, as_json=True)
    assert json.loads(capsys.readouterr().out) == deployed


def test_logs_prints_each_line_once(make_settings, client, capsys):
    settings = make_settings()
    outputs = commands.deploy(settings).outputs
    client("s3").put_object(Bucket=outputs["BucketName"], Key="logs-test/one two.txt", Body=b"x")
    deadline, backoff = time.monotonic() + 30, cfn.Backoff()  # polls from 0.05 s, growing to 0.5 s
    while time.monotonic() < deadline:
        capsys.readouterr()
        commands.logs(settings, since="5m")
        printed = capsys.readouterr().out
        if "logs-test/one two.txt" in printed and re.search(r"  REPORT \d", printed):  # the invocation ended
            break
        backoff.wait()
    assert printed.count("object created key=logs-test/one two.txt") == 1
    # Readable: Lambda's start record is left out and its report is one compact line per invocation.
    assert "platform.start" not in printed and len(re.findall(r"  REPORT \d", printed)) >= 1
    # LogFormat JSON, raw with --json: one platform start and one report record per invocation.
    commands.logs(settings, since="5m", as_json=True)
    messages = [json.loads(row)["message"] for row in capsys.readouterr().out.splitlines()]
    kinds = [json.loads(m).get("type") for m in messages if m.startswith("{")]
    assert kinds.count("platform.start") == kinds.count("platform.report") >= 1


def test_job_summary_records_changes_result_and_outputs(make_settings, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    settings = make_settings()
    commands.deploy(settings)
    written = summary.read_text()
    assert "| + Add | UploadsBucket | AWS::S3::Bucket | - |  |" in written
    assert "```mermaid\ngantt\n" in written and " UploadsBucket (S3 Bucket) " in written
    assert "**Result: deployed** (CREATE_COMPLETE)" in written
    assert "| BucketName |" in written


def test_job_summary_records_a_failure(make_settings, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    settings = make_settings()
    broken = broken_template(settings, tmp_path)
    with pytest.raises(StackFailed):
        commands.deploy(replace(settings, template=broken))
    assert "**Result: failed.** Deploy of stack" in summary.read_text()


def test_bootstrap_reuses_an_existing_provider_and_keeps_its_own(endpoint, client, monkeypatch, capsys):
    from pipeline.config import resolve

    iam = client("iam")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # the aws code path, pointed at the local cloud
    config = {"project": "bootprobe", "environments": {"dev": {}, "staging": {}}}
    settings = resolve(config, target="aws", env={"AWS_ENDPOINT_URL": endpoint})
    monkeypatch.setattr(github, "gh_state", lambda: "missing")
    existing = bootstrap.existing_oidc_provider(iam)
    created_here = None
    if existing is None:  # make the account look like one that already has GitHub's provider
        created_here = iam.create_open_id_connect_provider(
            Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"]
        )["OpenIDConnectProviderArn"]
    try:
        outputs = commands.bootstrap(settings, "octo/probe", ["staging"], "main", repo_id="7")
        stack = cfn.describe_stack(client("cloudformation"), "bootprobe-bootstrap")
        params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        assert params["CreateOidcProvider"] == "false"
        assert params["ExistingOidcProviderArn"] == (existing or created_here)
        assert "gh variable set AWS_DEPLOY_ROLE_ARN --env staging --body " + outputs["DeployRoleArn:staging"] in (
            capsys.readouterr().out
        )
        commands.bootstrap(settings, "octo/probe", ["staging"], "main", repo_id="7")  # a re-run changes nothing
        assert "No changes" in capsys.readouterr().out
    finally:
        delete_stack_and_wait(client("cloudformation"), "bootprobe-bootstrap-staging")
        delete_stack_and_wait(client("cloudformation"), "bootprobe-bootstrap")
        if created_here:
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=created_here)
