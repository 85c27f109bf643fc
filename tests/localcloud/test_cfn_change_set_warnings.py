"""WARN-mode pre-deployment validation through boto3: a change set that would delete a bucket holding objects.

Sources:
- User Guide "Validate stack deployments": S3 bucket emptiness validation runs at change set creation only, in
  WARN mode, which "allows change sets to be created successfully despite validation failures"; it checks only
  whether objects exist. DescribeChangeSet has no validation member (botocore's DescribeChangeSetOutput), so the
  warning is read with DescribeEvents.
- aws-cloudformation/rain#744, rain printing DescribeEvents' failed events of a change set made against AWS:
  "Resource: TestBucket2 (AWS::S3::Bucket), Validation: BUCKET_EMPTINESS_VALIDATION, Reason: The bucket
  '<name>' is not empty. You must either delete all objects and versions or use the deletion policy to retain it,
  otherwise the delete operation will fail." next to a NAME_CONFLICT_VALIDATION of the same change set.
- ValidationStatus is FAILED or SKIPPED, ValidationFailureMode FAIL or WARN (botocore's OperationEvent shape).
No source shows such an event's ValidationPath, so the test checks only that it points into the resource.
"""

from __future__ import annotations

import json
import uuid

import pytest
from stack_waits import change_set_settled, settled

NOT_EMPTY = (
    "The bucket '{}' is not empty. You must either delete all objects and versions or use the deletion policy to "
    "retain it, otherwise the delete operation will fail."
)


def _template(resources: dict) -> str:
    return json.dumps({"Resources": resources})


def _bucket(name: str, **attributes) -> dict:
    return {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}, **attributes}


QUEUE = {"Q": {"Type": "AWS::SQS::Queue"}}


def _deployed_bucket(client, **attributes) -> tuple[object, str, str]:
    cf, s3 = client("cloudformation"), client("s3")
    stack, bucket = f"warn-{uuid.uuid4().hex[:8]}", f"warn-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, TemplateBody=_template({"Data": _bucket(bucket, **attributes), **QUEUE}))
    assert settled(cf, stack) == "CREATE_COMPLETE"
    s3.put_object(Bucket=bucket, Key="kept.txt", Body=b"x")
    return cf, stack, bucket


def _warnings(cf, change_set_id: str) -> list[dict]:
    events = cf.describe_events(ChangeSetName=change_set_id, Filters={"FailedEvents": True})["OperationEvents"]
    return [e for e in events if e["EventType"] == "VALIDATION_ERROR"]


@pytest.mark.parametrize("change", ["bucket removed", "bucket replaced"], ids=["removed", "replaced"])
def test_deleting_a_bucket_that_holds_objects_warns_and_the_change_set_stays_executable(client, change) -> None:
    cf, stack, bucket = _deployed_bucket(client)
    new = QUEUE if change == "bucket removed" else {"Data": _bucket(f"{bucket}-new"), **QUEUE}
    made = cf.create_change_set(StackName=stack, ChangeSetName="cs", TemplateBody=_template(new))

    described = change_set_settled(cf, None, made["Id"])

    assert (described["Status"], described["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    assert "StatusReason" not in described
    [warning] = _warnings(cf, made["Id"])
    assert (warning["LogicalResourceId"], warning["ResourceType"]) == ("Data", "AWS::S3::Bucket")
    assert (warning["ValidationName"], warning["ValidationFailureMode"], warning["ValidationStatus"]) == (
        "BUCKET_EMPTINESS_VALIDATION",
        "WARN",
        "FAILED",
    )
    assert warning["ValidationStatusReason"] == NOT_EMPTY.format(bucket)
    assert warning["ValidationPath"].startswith("/Resources/Data")
    assert warning["OperationType"] == "CREATE_CHANGESET"


@pytest.mark.parametrize(
    ("attributes", "new"),
    [
        ({"DeletionPolicy": "Retain"}, "removed"),
        ({}, "kept"),
    ],
    ids=["retained", "unchanged"],
)
def test_no_warning_when_the_bucket_is_retained_or_kept(client, attributes: dict, new: str) -> None:
    cf, stack, bucket = _deployed_bucket(client, **attributes)
    resources = {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}}}
    if new == "kept":
        resources["Data"] = _bucket(bucket)
    made = cf.create_change_set(StackName=stack, ChangeSetName="cs", TemplateBody=_template(resources))

    assert change_set_settled(cf, None, made["Id"])["Status"] == "CREATE_COMPLETE"
    assert _warnings(cf, made["Id"]) == []


def test_an_empty_bucket_gives_no_warning_and_disable_validation_skips_the_check(client) -> None:
    cf, stack, bucket = _deployed_bucket(client)
    made = cf.create_change_set(
        StackName=stack, ChangeSetName="skip", TemplateBody=_template(QUEUE), DisableValidation=True
    )
    assert change_set_settled(cf, None, made["Id"])["Status"] == "CREATE_COMPLETE"
    assert _warnings(cf, made["Id"]) == []

    client("s3").delete_object(Bucket=bucket, Key="kept.txt")
    made = cf.create_change_set(StackName=stack, ChangeSetName="empty", TemplateBody=_template(QUEUE))
    assert change_set_settled(cf, None, made["Id"])["Status"] == "CREATE_COMPLETE"
    assert _warnings(cf, made["Id"]) == []
