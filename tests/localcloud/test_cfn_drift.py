"""Drift detection: the pure comparison (no server), then the live readers against a started local cloud.

Expected shapes come from AWS's answers recorded by LocalStack,
tests/aws/services/cloudformation/api/test_drift_detection.snapshot.json (test_drift_detection_on_lambda):
ExpectedProperties/ActualProperties hold the template's properties, PropertyDifferences have PropertyPath
("/Environment/Variables/ENDPOINT_URL"), ExpectedValue, ActualValue and DifferenceType NOT_EQUAL, and the
resource's StackResourceDriftStatus is MODIFIED. The CloudFormation API reference (DetectStackDrift,
PropertyDifference) defines ADD (added to a list), REMOVE and NOT_EQUAL, and says only properties set in the
template are checked.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from fixtures_lambda.functions import create_function, unique

from localcloud.cloudformation import drift, drift_api

NOW = datetime(2026, 12, 1, tzinfo=UTC)
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"


def _function(properties: dict) -> drift.DeployedResource:
    return drift.DeployedResource("Function", "AWS::Lambda::Function", "fn", properties)


def test_lambda_drift_as_aws_recorded_it():
    """The recorded case: Description, an environment variable and Runtime changed out of band."""
    expected = {
        "Description": "function to test lambda function url",
        "Environment": {"Variables": {"ENDPOINT_URL": "aws.amazon.com"}},
        "Handler": "index.handler",
        "Runtime": "python3.9",
        "Code": {"ZipFile": "def handler(e, c): pass"},
    }
    actual = {
        "Description": "different description",
        "Environment": {"Variables": {"ENDPOINT_URL": "localhost.localstack.cloud"}},
        "Handler": "index.handler",
        "Runtime": "python3.8",
        "MemorySize": 128,
    }
    found = drift.resource_drift(STACK, _function(expected), actual, now=NOW)
    assert found["StackResourceDriftStatus"] == "MODIFIED"
    assert found["PropertyDifferences"] == [
        {
            "PropertyPath": "/Description",
            "ExpectedValue": "function to test lambda function url",
            "ActualValue": "different description",
            "DifferenceType": "NOT_EQUAL",
        },
        {
            "PropertyPath": "/Environment/Variables/ENDPOINT_URL",
            "ExpectedValue": "aws.amazon.com",
            "ActualValue": "localhost.localstack.cloud",
            "DifferenceType": "NOT_EQUAL",
        },
        {
            "PropertyPath": "/Runtime",
            "ExpectedValue": "python3.9",
            "ActualValue": "python3.8",
            "DifferenceType": "NOT_EQUAL",
        },
    ]
    # Code is write-only (no read returns it) and MemorySize was never set: neither is compared or shown.
    assert set(json.loads(found["ExpectedProperties"])) == {"Description", "Environment", "Handler", "Runtime"}
    assert set(json.loads(found["ActualProperties"])) == {"Description", "Environment", "Handler", "Runtime"}


def test_in_sync_when_only_representation_differs():
    """Parameters arrive as strings ("256"); the service answers numbers. Defaults the template left out don't count."""
    expected = {"MemorySize": "256", "Timeout": 30, "LoggingConfig": {"LogFormat": "JSON"}}
    actual = {"MemorySize": 256, "Timeout": 30.0, "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/aws/lambda/f"}}
    found = drift.resource_drift(STACK, _function(expected), actual, now=NOW)
    assert (found["StackResourceDriftStatus"], found["PropertyDifferences"]) == ("IN_SYNC", [])


def test_removed_and_added_values():
    expected = {
        "NotificationConfiguration": {"LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": "arn:f"}]}
    }
    assert drift.differences("AWS::S3::Bucket", expected, {"NotificationConfiguration": {}}) == [
        {
            "PropertyPath": "/NotificationConfiguration/LambdaConfigurations",
            "ExpectedValue": '[{"Event": "s3:ObjectCreated:*", "Function": "arn:f"}]',
            "ActualValue": "null",
            "DifferenceType": "REMOVE",
        }
    ]
    two = {
        "NotificationConfiguration": {
            "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": "arn:f"}] * 2
        }
    }
    [added] = drift.differences("AWS::S3::Bucket", expected, two)
    assert (added["PropertyPath"], added["DifferenceType"], added["ExpectedValue"]) == (
        "/NotificationConfiguration/LambdaConfigurations/1",
        "ADD",
        "null",
    )


def test_unordered_lists_compare_as_sets():
    """Tags have insertionOrder false in the provider schema: order is no drift, a changed value is."""
    expected = {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}
    assert (
        drift.differences(
            "AWS::SQS::Queue", expected, {"Tags": [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]}
        )
        == []
    )
    changed = drift.differences(
        "AWS::SQS::Queue", expected, {"Tags": [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "9"}]}
    )
    assert [(d["PropertyPath"], d["DifferenceType"]) for d in changed] == [("/Tags/0/Value", "NOT_EQUAL")]


def test_policy_documents_compare_as_json():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    role = "AWS::IAM::Role"
    assert (
        drift.differences(
            role, {"AssumeRolePolicyDocument": json.dumps(document)}, {"AssumeRolePolicyDocument": document}
        )
        == []
    )
    widened = {**document, "Statement": [{"Effect": "Allow", "Action": "*"}]}
    [changed] = drift.differences(role, {"AssumeRolePolicyDocument": document}, {"AssumeRolePolicyDocument": widened})
    assert changed["PropertyPath"] == "/AssumeRolePolicyDocument/Statement/0/Action"


def test_deleted_resource_and_stack_status():
    deleted = drift.resource_drift(STACK, _function({"Runtime": "python3.13"}), None, now=NOW)
    assert deleted["StackResourceDriftStatus"] == "DELETED"
    assert "ActualProperties" not in deleted and "ExpectedProperties" not in deleted
    in_sync = drift.resource_drift(STACK, _function({"Runtime": "python3.13"}), {"Runtime": "python3.13"}, now=NOW)
    assert drift.stack_drift_status([in_sync]) == "IN_SYNC"
    assert drift.stack_drift_status([in_sync, deleted]) == "DRIFTED"
    assert drift.stack_drift_status([]) == "IN_SYNC"


def test_unsupported_types_are_not_checked():
    resource = drift.DeployedResource("Param", "AWS::SSM::Parameter", "p", {"Type": "String", "Value": "v"})
    assert drift.check(STACK, resource, clients=lambda service: None) is None
    detections = drift_api.Detections()
    assert detections.resource_information(STACK, "Param") == {"StackResourceDriftStatus": "NOT_CHECKED"}
    assert detections.stack_information(STACK) == {"StackDriftStatus": "NOT_CHECKED"}


# --- live readers, against the session's local cloud ---------------------------------------------------------


def _finished(detections: drift_api.Detections, detection_id: str) -> dict:
    deadline = time.monotonic() + 20
    while (status := detections.status(detection_id))["DetectionStatus"] == "DETECTION_IN_PROGRESS":
        assert time.monotonic() < deadline, "drift detection did not finish"
        time.sleep(0.05)
    return status


def test_function_and_bucket_drift_on_the_local_cloud(client):
    """The issue-8 case: memory and the bucket's notification changed with boto3, then both reported."""
    fn = create_function(client, "ok", MemorySize=256, Timeout=30, Environment={"Variables": {"MODE": "a"}})
    bucket = unique("drift")
    client("s3").create_bucket(Bucket=bucket)
    client("lambda").add_permission(
        FunctionName=fn["FunctionName"], StatementId="s3", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com"
    )
    notification = {
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn["FunctionArn"], "Events": ["s3:ObjectCreated:*"]}]
    }
    client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notification)
    client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    template_function = {
        "FunctionName": fn["FunctionName"],
        "Runtime": "python3.11",
        "Handler": "app.ok",
        "MemorySize": "256",
        "Timeout": 30,
        "Environment": {"Variables": {"MODE": "a"}},
        "Code": {"ZipFile": "ignored: write-only"},
    }
    template_bucket = {
        "BucketName": bucket,
        "VersioningConfiguration": {"Status": "Enabled"},
        "NotificationConfiguration": {
            "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": fn["FunctionArn"]}]
        },
    }
    resources = [
        drift.DeployedResource("Function", "AWS::Lambda::Function", fn["FunctionName"], template_function),
        drift.DeployedResource("Bucket", "AWS::S3::Bucket", bucket, template_bucket),
        drift.DeployedResource("Permission", "AWS::Lambda::Permission", "s3", {"Action": "lambda:InvokeFunction"}),
    ]
    detections = drift_api.Detections()
    clean = _finished(detections, detections.start(STACK, resources, client))
    assert (clean["DetectionStatus"], clean["StackDriftStatus"], clean["DriftedStackResourceCount"]) == (
        "DETECTION_COMPLETE",
        "IN_SYNC",
        0,
    )
    assert [d["LogicalResourceId"] for d in detections.resource_drifts(STACK)] == ["Function", "Bucket"]

    client("lambda").update_function_configuration(FunctionName=fn["FunctionName"], MemorySize=512)
    client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    drifted = _finished(detections, detections.start(STACK, resources, client))
    assert (drifted["StackDriftStatus"], drifted["DriftedStackResourceCount"]) == ("DRIFTED", 2)
    by_id = {d["LogicalResourceId"]: d for d in detections.resource_drifts(STACK, ["MODIFIED"])}
    assert by_id["Function"]["PropertyDifferences"] == [
        {"PropertyPath": "/MemorySize", "ExpectedValue": "256", "ActualValue": "512", "DifferenceType": "NOT_EQUAL"}
    ]
    assert [(d["PropertyPath"], d["DifferenceType"]) for d in by_id["Bucket"]["PropertyDifferences"]] == [
        ("/NotificationConfiguration/LambdaConfigurations", "REMOVE")
    ]
    assert detections.stack_information(STACK)["StackDriftStatus"] == "DRIFTED"


def test_queue_role_and_log_group_readers(client):
    queue_url = client("sqs").create_queue(QueueName=unique("drift"), Attributes={"MessageRetentionPeriod": "1209600"})[
        "QueueUrl"
    ]
    group = f"/drift/{unique('g')}"
    client("logs").create_log_group(logGroupName=group)
    client("logs").put_retention_policy(logGroupName=group, retentionInDays=14)
    role = unique("drift-role")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    client("iam").create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    resources = {
        "Queue": drift.DeployedResource(
            "Queue", "AWS::SQS::Queue", queue_url, {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}
        ),
        "Logs": drift.DeployedResource(
            "Logs", "AWS::Logs::LogGroup", group, {"LogGroupName": group, "RetentionInDays": "14"}
        ),
        "Role": drift.DeployedResource("Role", "AWS::IAM::Role", role, {"AssumeRolePolicyDocument": trust}),
    }
    results = {key: drift.check(STACK, resource, client) for key, resource in resources.items()}
    assert {key: found["StackResourceDriftStatus"] for key, found in results.items()} == {
        "Queue": "IN_SYNC",
        "Logs": "IN_SYNC",
        "Role": "IN_SYNC",
    }, results

    client("logs").put_retention_policy(logGroupName=group, retentionInDays=30)
    client("sqs").delete_queue(QueueUrl=queue_url)
    assert drift.check(STACK, resources["Logs"], client)["PropertyDifferences"] == [
        {"PropertyPath": "/RetentionInDays", "ExpectedValue": "14", "ActualValue": "30", "DifferenceType": "NOT_EQUAL"}
    ]
    assert drift.check(STACK, resources["Queue"], client)["StackResourceDriftStatus"] == "DELETED"
