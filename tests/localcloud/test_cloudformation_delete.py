"""DeleteStack of a stack whose bucket still holds objects fails, as CloudFormation's does.

AWS: S3 refuses to delete a bucket that holds objects, object versions or delete markers, so the bucket resource
goes DELETE_FAILED with "The bucket you tried to delete is not empty" and the stack ends DELETE_FAILED, keeping
the bucket and the resources it depends on. A bucket with ``DeletionPolicy: Retain`` is skipped and left behind.
(Plain moto's delete_bucket returns None for a non-empty bucket, and the stack reports DELETE_COMPLETE.)

Once DELETE_FAILED, DeleteStack's RetainResources names what to leave behind and the stack is deleted without
it; DeletionMode FORCE_DELETE_STACK deletes "the stack if it's stuck in a DELETE_FAILED state due to resource
deletion failure" (DeleteStack API reference; User Guide troubleshooting, "Delete stack fails": "rerun the
deletion with the RetainResources parameter"). AWS's refusals, as users met them: FORCE_DELETE_STACK on another
status, "Invalid operation on stack [<arn>]. You can activate DeletionMode FORCE_DELETE_STACK in a delete stack
operation only when the stack is in the DELETE_FAILED state." (awslabs/eks-perf-tests#517); retaining a resource
already deleted, "The specified resources to retain must be in a valid state. Do not specify resources that are
in the DELETE_COMPLETE state." (rebuy-de/aws-nuke#270). RetainResources on another status is refused
(aws-nuke#244: resources "can only be retained when the [stack] is already in DELETE_FAILED state"); no
recording gives that message, so only the code is checked.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from stack_waits import error_of, settled

TEMPLATE = """
Parameters:
  Policy: {Type: String, Default: Delete}
Conditions:
  Retain: !Equals [!Ref Policy, Retain]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-queue"
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: Queue
    Properties:
      BucketName: !Sub "${AWS::StackName}-data"
      VersioningConfiguration: {Status: Enabled}
"""

RETAINED = TEMPLATE.replace("    DependsOn: Queue\n", "    DependsOn: Queue\n    DeletionPolicy: Retain\n")


def _statuses(cf, stack: str, logical_id: str) -> list[tuple[str, str]]:
    events = reversed(cf.describe_stack_events(StackName=stack)["StackEvents"])
    return [
        (e["ResourceStatus"], e.get("ResourceStatusReason", "")) for e in events if e["LogicalResourceId"] == logical_id
    ]


def _status(cf, stack: str) -> str:
    return cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def _fill(s3, bucket: str, content: str) -> None:
    s3.put_object(Bucket=bucket, Key="data.txt", Body=b"x")
    if content == "delete marker and version":
        s3.delete_object(Bucket=bucket, Key="data.txt")  # no current object left, but S3 still holds two versions
        assert not s3.list_objects_v2(Bucket=bucket).get("Contents")


def _empty(s3, bucket: str) -> None:
    listed = s3.list_object_versions(Bucket=bucket)
    for entry in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])


@pytest.mark.parametrize("content", ["object", "delete marker and version"])
def test_deleting_a_stack_with_a_non_empty_bucket_fails_and_keeps_it(client, content: str) -> None:
    cf, s3, sqs = client("cloudformation"), client("s3"), client("sqs")
    stack = f"cfn-del-{uuid.uuid4().hex[:8]}"
    bucket = f"{stack}-data"
    cf.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    settled(cf, stack)
    _fill(s3, bucket, content)

    cf.delete_stack(StackName=stack)
    settled(cf, stack)

    assert _status(cf, stack) == "DELETE_FAILED"
    assert _statuses(cf, stack, "Bucket")[-2:] == [
        ("DELETE_IN_PROGRESS", ""),
        ("DELETE_FAILED", "The bucket you tried to delete is not empty"),
    ]
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert sqs.list_queues(QueueNamePrefix=f"{stack}-queue").get("QueueUrls")  # the bucket still depends on it
    assert not any(status.startswith("DELETE") for status, _ in _statuses(cf, stack, "Queue"))
    resources = cf.describe_stack_resources(StackName=stack)["StackResources"]
    assert {r["LogicalResourceId"] for r in resources} == {"Queue", "Bucket"}

    _empty(s3, bucket)
    cf.delete_stack(StackName=stack)
    settled(cf, stack)

    assert all(
        s["StackStatus"] == "DELETE_COMPLETE" for s in cf.list_stacks()["StackSummaries"] if s["StackName"] == stack
    )
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert not sqs.list_queues(QueueNamePrefix=f"{stack}-queue").get("QueueUrls")


def test_a_retained_non_empty_bucket_is_skipped(client) -> None:
    cf, s3 = client("cloudformation"), client("s3")
    stack = f"cfn-keep-{uuid.uuid4().hex[:8]}"
    bucket = f"{stack}-data"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=RETAINED)["StackId"]
    settled(cf, stack)
    _fill(s3, bucket, "object")

    cf.delete_stack(StackName=stack)
    settled(cf, stack)

    assert [s for s, _ in _statuses(cf, stack_id, "Bucket")][-1] == "DELETE_SKIPPED"
    summaries = [s for s in cf.list_stacks()["StackSummaries"] if s["StackName"] == stack]
    assert [s["StackStatus"] for s in summaries] == ["DELETE_COMPLETE"]
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    _empty(s3, bucket)
    s3.delete_bucket(Bucket=bucket)


SPARE = (
    TEMPLATE
    + """  Spare:
    Type: AWS::SQS::Queue
"""
)


def _delete_failed(client, template: str = SPARE) -> tuple[object, object, str, str]:
    """A stack left DELETE_FAILED by its non-empty bucket (its Spare queue, needed by nothing, is deleted)."""
    cf, s3 = client("cloudformation"), client("s3")
    stack = f"cfn-ret-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=template)["StackId"]
    assert settled(cf, stack) == "CREATE_COMPLETE"
    _fill(s3, f"{stack}-data", "object")
    cf.delete_stack(StackName=stack)
    assert settled(cf, stack) == "DELETE_FAILED"
    return cf, s3, stack, stack_id


def test_retain_resources_deletes_a_delete_failed_stack_and_keeps_the_bucket(client) -> None:
    cf, s3, stack, stack_id = _delete_failed(client)
    bucket = f"{stack}-data"

    cf.delete_stack(StackName=stack, RetainResources=["Bucket"])

    assert settled(cf, stack_id) == "DELETE_COMPLETE"
    assert _statuses(cf, stack_id, "Bucket")[-1] == ("DELETE_SKIPPED", "")
    assert _statuses(cf, stack_id, "Queue")[-1][0] == "DELETE_COMPLETE"
    assert s3.get_object(Bucket=bucket, Key="data.txt")["Body"].read() == b"x"  # retained, objects and all
    _empty(s3, bucket)
    s3.delete_bucket(Bucket=bucket)


def test_force_delete_stack_retains_what_still_fails_to_delete(client) -> None:
    cf, s3, stack, stack_id = _delete_failed(client)

    cf.delete_stack(StackName=stack, DeletionMode="FORCE_DELETE_STACK")

    assert settled(cf, stack_id) == "DELETE_COMPLETE"
    assert _statuses(cf, stack_id, "Bucket")[-1] == ("DELETE_FAILED", "The bucket you tried to delete is not empty")
    assert _statuses(cf, stack_id, "Queue")[-1][0] == "DELETE_COMPLETE"
    assert f"{stack}-data" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    _empty(s3, f"{stack}-data")
    s3.delete_bucket(Bucket=f"{stack}-data")


def test_a_resource_already_deleted_cannot_be_retained(client) -> None:
    cf, s3, stack, _stack_id = _delete_failed(client)
    with pytest.raises(ClientError) as refused:
        cf.delete_stack(StackName=stack, RetainResources=["Bucket", "Spare"])
    assert error_of(refused) == (
        "ValidationError",
        "The specified resources to retain must be in a valid state. Do not specify resources that are in the "
        "DELETE_COMPLETE state.",
    )
    assert _status(cf, stack) == "DELETE_FAILED"
    _empty(s3, f"{stack}-data")
    cf.delete_stack(StackName=stack)
    assert settled(cf, stack) == "DELETE_COMPLETE"


def test_retain_and_force_are_refused_unless_the_stack_is_delete_failed(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-ret-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=TEMPLATE)["StackId"]
    assert settled(cf, stack) == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as forced:
        cf.delete_stack(StackName=stack, DeletionMode="FORCE_DELETE_STACK")
    assert error_of(forced) == (
        "ValidationError",
        f"Invalid operation on stack [{stack_id}]. You can activate DeletionMode FORCE_DELETE_STACK in a delete "
        "stack operation only when the stack is in the DELETE_FAILED state.",
    )
    with pytest.raises(ClientError) as retained:
        cf.delete_stack(StackName=stack, RetainResources=["Bucket"])
    assert error_of(retained)[0] == "ValidationError"
    assert _status(cf, stack) == "CREATE_COMPLETE"
    cf.delete_stack(StackName=stack)
    assert settled(cf, stack_id) == "DELETE_COMPLETE"
