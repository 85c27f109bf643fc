"""DeleteStack of a stack whose bucket still holds objects fails, as CloudFormation's does.

AWS: S3 refuses to delete a bucket that holds objects, object versions or delete markers, so the bucket resource
goes DELETE_FAILED with "The bucket you tried to delete is not empty" and the stack ends DELETE_FAILED, keeping
the bucket and the resources it depends on. A bucket with ``DeletionPolicy: Retain`` is skipped and left behind.
(Plain moto's delete_bucket returns None for a non-empty bucket, and the stack reports DELETE_COMPLETE.)
"""

from __future__ import annotations

import uuid

import pytest
from stack_waits import settled

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
