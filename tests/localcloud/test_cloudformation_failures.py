"""A failing resource fails the stack, and the stack rolls back as CloudFormation's does.

AWS: a failed create ends ROLLBACK_COMPLETE with the resources created so far deleted (never CREATE_COMPLETE),
and such a stack can only be deleted; a failed update ends UPDATE_ROLLBACK_COMPLETE with the previous function,
code, configuration, template and outputs intact. Also: DeleteStack honours termination protection and stack
names must match [a-zA-Z][-a-zA-Z0-9]*. (Plain moto ends CREATE_COMPLETE and has no rollback.)
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from stack_waits import error_of, settled

TEMPLATES = Path(__file__).parent / "templates"


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def _status(cf, stack: str) -> str:
    return cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def _statuses(cf, stack: str, logical_id: str) -> list[str]:
    events = reversed(cf.describe_stack_events(StackName=stack)["StackEvents"])
    return [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == logical_id]


def test_failed_create_rolls_back_and_only_allows_delete(client) -> None:
    cf, sqs, s3 = client("cloudformation"), client("sqs"), client("s3")
    stack = f"cfn-fail-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=f"{stack}-code")
    params = [{"ParameterKey": "CodeBucket", "ParameterValue": f"{stack}-code"}]

    cf.create_stack(
        StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=_template("missing_code.yaml"), Parameters=params
    )
    settled(cf, stack)

    assert _status(cf, stack) == "ROLLBACK_COMPLETE"
    assert _statuses(cf, stack, stack) == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    assert _statuses(cf, stack, "Broken") == ["CREATE_IN_PROGRESS", "CREATE_FAILED"]
    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    (failed,) = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["ResourceStatusReason"].startswith("Error occurred while GetObject. S3 Error Code: NoSuchKey")
    assert _statuses(cf, stack, "Queue")[-1] == "DELETE_COMPLETE"
    assert not sqs.list_queues(QueueNamePrefix=f"{stack}-queue").get("QueueUrls")
    with pytest.raises(ClientError) as raised:
        cf.update_stack(StackName=stack, TemplateBody=_template("queues.yaml"))
    assert error_of(raised)[0] == "ValidationError" and "ROLLBACK_COMPLETE" in error_of(raised)[1]
    with pytest.raises(ClientError) as raised:
        cf.create_change_set(StackName=stack, ChangeSetName="retry", TemplateBody=_template("queues.yaml"))
    assert error_of(raised)[0] == "ValidationError" and "ROLLBACK_COMPLETE" in error_of(raised)[1]

    cf.delete_stack(StackName=stack)
    settled(cf, stack)
    assert all(
        s["StackStatus"] == "DELETE_COMPLETE" for s in cf.list_stacks()["StackSummaries"] if s["StackName"] == stack
    )


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def test_failed_update_rolls_back_to_the_previous_function(client) -> None:
    cf, s3, lam = client("cloudformation"), client("s3"), client("lambda")
    stack = f"cfn-upfail-{uuid.uuid4().hex[:8]}"
    code_bucket = f"{stack}-code"
    s3.create_bucket(Bucket=code_bucket)
    s3.put_object(Bucket=code_bucket, Key="v1.zip", Body=_zip("def handler(event, context):\n    return 1\n"))
    params = [
        {"ParameterKey": "CodeBucket", "ParameterValue": code_bucket},
        {"ParameterKey": "CodeKey", "ParameterValue": "v1.zip"},
    ]
    cf.create_stack(
        StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=_template("function.yaml"), Parameters=params
    )
    settled(cf, stack)
    before = lam.get_function_configuration(FunctionName=f"{stack}-fn")
    outputs_before = cf.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]

    broken = [
        params[0],
        {"ParameterKey": "CodeKey", "ParameterValue": "missing.zip"},
        {"ParameterKey": "Timeout", "ParameterValue": "20"},
    ]
    cf.update_stack(
        StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=_template("function.yaml"), Parameters=broken
    )
    settled(cf, stack)

    assert _status(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert _statuses(cf, stack, "Function")[-4:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    assert _statuses(cf, stack, stack)[-4:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    after = lam.get_function_configuration(FunctionName=f"{stack}-fn")
    assert (after["FunctionArn"], after["CodeSha256"], after["Timeout"]) == (
        before["FunctionArn"],
        before["CodeSha256"],
        3,
    )
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["Outputs"] == outputs_before
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}["CodeKey"] == "v1.zip"


def test_termination_protection_blocks_delete(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-protect-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, TemplateBody=_template("queues.yaml"), EnableTerminationProtection=True)
    settled(cf, stack)

    with pytest.raises(ClientError) as raised:
        cf.delete_stack(StackName=stack)

    assert error_of(raised) == (
        "ValidationError",
        f"Stack [{stack}] cannot be deleted while TerminationProtection is enabled",
    )
    cf.update_termination_protection(StackName=stack, EnableTerminationProtection=False)
    cf.delete_stack(StackName=stack)
    settled(cf, stack)


@pytest.mark.parametrize("name", ["1starts-with-digit", "has_underscore", "a" * 129])
def test_invalid_stack_name_is_refused(client, name: str) -> None:
    cf = client("cloudformation")
    with pytest.raises(ClientError) as raised:
        cf.create_stack(StackName=name, TemplateBody=_template("queues.yaml"))
    assert error_of(raised)[0] == "ValidationError"
