"""invoke drift on the local cloud: changes made out of band with boto3 are found, named and fail the task."""

from __future__ import annotations

import pytest

from pipeline import commands
from pipeline.drift import DriftFound


def test_a_clean_stack_has_no_drift_and_out_of_band_changes_are_named(make_settings, client, capsys):
    settings = make_settings()
    outputs = commands.deploy(settings).outputs
    assert not commands.drift(settings).drifted
    assert f"Stack {settings.stack_name}: no drift" in capsys.readouterr().out

    # Someone changes the function's memory and removes the bucket's notification in the console.
    client("lambda").update_function_configuration(FunctionName=outputs["FunctionName"], MemorySize=1024)
    client("s3").put_bucket_notification_configuration(Bucket=outputs["BucketName"], NotificationConfiguration={})
    with pytest.raises(DriftFound) as found:
        commands.drift(settings)
    assert found.value.exit_code == 2
    assert "Function" in str(found.value) and "UploadsBucket" in str(found.value)
    printed = capsys.readouterr().out
    memory = [line for line in printed.splitlines() if "/MemorySize" in line]
    assert memory and "256" in memory[0] and "1024" in memory[0]  # git's value and the live one
    assert "/NotificationConfiguration" in printed


def test_reconcile_puts_gits_memory_and_notification_back_and_verifies(make_settings, client, capsys):
    """`invoke drift --reconcile`: a drift-aware change set (CreateChangeSet DeploymentMode=REVERT_DRIFT, AWS
    CloudFormation User Guide "Using drift-aware change sets") modifies the drifted resources back to the
    template's values although the template is unchanged; verify passes and a second detection is clean."""
    settings = make_settings()
    outputs = commands.deploy(settings).outputs
    lam, s3 = client("lambda"), client("s3")
    lam.update_function_configuration(FunctionName=outputs["FunctionName"], MemorySize=1024)
    s3.put_bucket_notification_configuration(Bucket=outputs["BucketName"], NotificationConfiguration={})

    after = commands.drift(settings, reconcile=True)

    assert not after.drifted
    assert lam.get_function_configuration(FunctionName=outputs["FunctionName"])["MemorySize"] == 256
    notification = s3.get_bucket_notification_configuration(Bucket=outputs["BucketName"])
    assert [c["LambdaFunctionArn"] for c in notification["LambdaFunctionConfigurations"]] == [outputs["FunctionArn"]]
    assert "Reconciled:" in capsys.readouterr().out
