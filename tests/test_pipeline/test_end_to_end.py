"""The real tasks, end to end, on the local cloud: deploy, update in place, no-op, verify, recover, destroy."""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import replace

import pytest
from pipeline_helpers import broken_template, count_calls

from pipeline import commands
from pipeline.errors import StackFailed, UserError

RAISING_HANDLER = "def handler(event, context):\n    raise RuntimeError('boom: handler is broken')\n"
KEY_THEN_RAISE_HANDLER = (
    "import logging\nlogging.getLogger().setLevel(logging.INFO)\n\n"
    "def handler(event, context):\n"
    "    key = event['Records'][0]['s3']['object']['key']\n"
    "    logging.info('object created key=%s', key)\n"
    "    raise ValueError('cannot handle ' + key)\n"
)
RAISE_WITH_KEY_HANDLER = (
    "def handler(event, context):\n"
    "    key = event['Records'][0]['s3']['object']['key']\n"
    "    raise ValueError('cannot handle ' + key)\n"
)
IMPORT_ERROR_HANDLER = "import no_such_module_anywhere\n\ndef handler(event, context):\n    return {}\n"
UNRELATED_HANDLER = (
    "import logging\nlogging.getLogger().setLevel(logging.INFO)\n\n"
    "def handler(event, context):\n    logging.info('processed an object')\n    return {}\n"
)


def _function(client, settings):
    name = f"{settings.stack_name}-handler"
    return client("lambda").get_function(FunctionName=name)["Configuration"]


def test_deploy_creates_the_stack_and_streams_each_resource(make_settings, client, capsys):
    settings = make_settings()
    result = commands.deploy(settings)
    assert result.outcome == "deployed" and result.status == "CREATE_COMPLETE"
    assert set(result.outputs) >= {"BucketName", "FunctionName", "FunctionArn", "LogGroupName", "FailureQueueUrl"}
    printed = capsys.readouterr().out
    for logical_id in ("UploadsBucket", "Function", "FunctionLogGroup", "FailureQueue"):
        assert re.search(rf"^\d\d:\d\d:\d\d  {logical_id} +AWS::\S+ +CREATE_COMPLETE$", printed, re.MULTILINE)
    assert printed.index("CREATE_IN_PROGRESS") < printed.rindex("CREATE_COMPLETE")


def test_code_change_updates_in_place_and_unchanged_redeploy_writes_nothing(make_settings, client, capsys):
    settings = make_settings()
    commands.deploy(settings)
    before = _function(client, settings)
    handler = settings.lambda_dir / "handler.py"
    handler.write_text(handler.read_text() + "\n# a code change\n")
    updated = commands.deploy(settings)
    after = _function(client, settings)
    assert updated.outcome == "deployed" and updated.status == "UPDATE_COMPLETE"
    assert [(c.action, c.logical_id, c.replacement) for c in updated.changes] == [("Modify", "Function", "False")]
    assert after["FunctionArn"] == before["FunctionArn"]
    assert after["CodeSha256"] != before["CodeSha256"]
    same_name = [
        f for f in client("lambda").list_functions()["Functions"] if f["FunctionName"].startswith(settings.stack_name)
    ]
    assert len(same_name) == 1

    cloud = commands.aws.connect(settings)
    with (
        count_calls(cloud.client("cloudformation"), "CreateChangeSet") as change_sets,
        count_calls(cloud.client("s3"), "PutObject") as puts,
    ):
        again = commands.deploy(settings, cloud=cloud)
    assert again.outcome == "no changes"
    assert (change_sets.count, puts.count) == (0, 0)
    assert "No changes" in capsys.readouterr().out


def test_verify_finds_the_log_line_of_its_own_upload(make_settings, client, capsys):
    settings = make_settings()
    commands.deploy(settings)
    found = commands.verify(settings)
    assert found.request_id
    printed = capsys.readouterr().out
    assert "Verified" in printed and found.message in printed
    bucket = commands.cfn.outputs(commands.cfn.describe_stack(client("cloudformation"), settings.stack_name))[
        "BucketName"
    ]
    versions = client("s3").list_object_versions(Bucket=bucket, Prefix="verify/")
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")  # every version cleaned up


@pytest.mark.parametrize(
    ("handler_code", "reason", "shown"),
    [
        # Fails fast: the invocation after the upload failed, so verify stops long before its 60 s timeout.
        (RAISING_HANDLER, "an invocation that started after", "boom: handler is broken"),
        (IMPORT_ERROR_HANDLER, "an invocation that started after", "No module named"),
        (UNRELATED_HANDLER, "no log line for", "processed an object"),
        # The handler sees the key (so the uuid is in its lines) and still fails: that is not a pass.
        (KEY_THEN_RAISE_HANDLER, "the invocation that processed", "cannot handle"),
        (RAISE_WITH_KEY_HANDLER, "the invocation that processed", "cannot handle"),
    ],
    ids=["raises", "import-error", "unrelated-lines", "logs-key-then-raises", "raises-with-key"],
)
def test_verify_fails_with_a_diagnosis(make_settings, handler_code, reason, shown, capsys, monkeypatch):
    settings = make_settings()
    (settings.lambda_dir / "handler.py").write_text(handler_code)
    commands.deploy(settings)
    timeout = 60
    if handler_code is UNRELATED_HANDLER:  # only the timeout ends this verify: let it end once the lines are in
        timeout = 6
        _time_runs_out_once_logged(monkeypatch, shown)
    with pytest.raises(UserError, match=f"Verify failed: {reason}"):
        commands.verify(settings, timeout=timeout)
    printed = capsys.readouterr().out
    assert "marker object in the bucket: yes" in printed
    assert "bucket notifies the function: yes" in printed
    assert shown in printed  # the failing lines are shown


def _time_runs_out_once_logged(monkeypatch, line: str) -> None:
    """verify's clock: real time until ``line`` is in the function's log since the upload, then past the deadline.

    A verify that sees no marker line waits out its timeout; that wait is real time until the handler's lines
    (which the diagnosis must show) have landed, however long the machine takes, and no longer (was a flat 6 s).
    """
    wait_for_proof = commands.verify_step.wait_for_proof

    def wait(logs, group, marker, timeout, *args, **kwargs):
        calls = itertools.count()

        def clock() -> float:
            if next(calls) == 0:  # the call that sets the deadline
                return time.monotonic()
            events = logs.filter_log_events(logGroupName=group, startTime=marker.uploaded_ms)["events"]
            logged = any(line in event["message"] for event in events)
            return time.monotonic() + (timeout if logged else 0)

        return wait_for_proof(logs, group, marker, timeout, *args, **kwargs, clock=clock)

    monkeypatch.setattr(commands.verify_step, "wait_for_proof", wait)


def test_failed_update_rolls_back_and_the_previous_version_keeps_working(make_settings, client, tmp_path):
    settings = make_settings()
    commands.deploy(settings)
    broken = broken_template(settings, tmp_path)
    with pytest.raises(StackFailed, match=r"Broken .*previous version is still deployed"):
        commands.deploy(replace(settings, template=broken))
    assert commands.cfn.describe_stack(client("cloudformation"), settings.stack_name)["StackStatus"] == (
        "UPDATE_ROLLBACK_COMPLETE"
    )
    assert commands.verify(settings).request_id


def test_a_stack_in_rollback_complete_is_recovered(make_settings, client, tmp_path, capsys):
    settings = make_settings()
    broken = broken_template(settings, tmp_path)
    with pytest.raises(StackFailed, match="next `invoke deploy` deletes the failed stack"):
        commands.deploy(replace(settings, template=broken))
    cfn = client("cloudformation")
    assert commands.cfn.describe_stack(cfn, settings.stack_name)["StackStatus"] == "ROLLBACK_COMPLETE"
    result = commands.deploy(settings)
    assert result.status == "CREATE_COMPLETE"
    assert "ROLLBACK_COMPLETE (its first create failed)" in capsys.readouterr().out


def test_destroy_removes_everything(make_settings, client):
    settings = make_settings()
    outputs = commands.deploy(settings).outputs
    s3 = client("s3")
    for body in (b"one", b"two"):
        s3.put_object(Bucket=outputs["BucketName"], Key="data/file.txt", Body=body)
    s3.delete_object(Bucket=outputs["BucketName"], Key="data/file.txt")  # leaves a delete marker
    commands.destroy(settings, yes=True)
    assert commands.cfn.describe_stack(client("cloudformation"), settings.stack_name) is None
    assert outputs["BucketName"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert outputs["FunctionName"] not in [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]]


def test_destroy_asks_first_and_does_nothing_without_yes(make_settings, client):
    settings = make_settings()
    commands.deploy(settings)
    with pytest.raises(UserError, match="Not confirmed, nothing was deleted"):
        commands.destroy(settings, confirm=lambda prompt: "no")
    assert (
        commands.cfn.describe_stack(client("cloudformation"), settings.stack_name)["StackStatus"] == "CREATE_COMPLETE"
    )


def test_destroy_explains_termination_protection(make_settings, client):
    settings = make_settings()
    commands.deploy(settings)
    client("cloudformation").update_termination_protection(
        EnableTerminationProtection=True, StackName=settings.stack_name
    )
    with pytest.raises(UserError, match="--no-enable-termination-protection"):
        commands.destroy(settings, yes=True)


def test_a_parameter_that_breaks_its_constraint_is_refused_before_anything_changes(make_settings, client):
    settings = make_settings(parameters={"LogRetentionDays": "15"})  # not a valid retention
    with pytest.raises(UserError, match=r"rejected the change set .* Parameter 'LogRetentionDays'"):
        commands.deploy(settings)
    assert commands.cfn.describe_stack(client("cloudformation"), settings.stack_name) is None
