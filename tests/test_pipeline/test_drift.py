"""invoke drift through botocore's Stubber: per drifted property, git's value and the live one; exit non-zero.

Response shapes are CloudFormation's (API reference: DetectStackDrift, DescribeStackDriftDetectionStatus,
DescribeStackResourceDrifts with PropertyDifferences of PropertyPath/ExpectedValue/ActualValue/DifferenceType).
"""

from __future__ import annotations

import datetime

import pytest

from pipeline import drift
from pipeline.errors import UserError

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/app-dev/1"


def _resource_drift(logical, resource_type, status, differences=()):
    return {
        "StackId": STACK_ID,
        "LogicalResourceId": logical,
        "ResourceType": resource_type,
        "StackResourceDriftStatus": status,
        "Timestamp": NOW,
        "PropertyDifferences": [
            {"PropertyPath": path, "ExpectedValue": expected, "ActualValue": actual, "DifferenceType": kind}
            for path, expected, actual, kind in differences
        ],
    }


MEMORY = _resource_drift("Function", "AWS::Lambda::Function", "MODIFIED", [("/MemorySize", "256", "1024", "NOT_EQUAL")])
NOTIFICATION = _resource_drift(
    "UploadsBucket",
    "AWS::S3::Bucket",
    "MODIFIED",
    [
        (
            "/NotificationConfiguration/LambdaConfigurations/0",
            '{"Event":"s3:ObjectCreated:*","Function":"arn:aws:lambda:us-east-1:123456789012:function:app-dev-handler"}',
            "null",
            "REMOVE",
        )
    ],
)


def _detection(stubber, stack_status, drifts, in_progress=1, detection="DETECTION_COMPLETE", reason=None):
    stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-1"}, {"StackName": "app-dev"})
    base = {"StackId": STACK_ID, "StackDriftDetectionId": "d-1", "Timestamp": NOW}
    for _ in range(in_progress):
        stubber.add_response(
            "describe_stack_drift_detection_status", {**base, "DetectionStatus": "DETECTION_IN_PROGRESS"}, None
        )
    done = {**base, "DetectionStatus": detection, "StackDriftStatus": stack_status, "DriftedStackResourceCount": 2}
    if reason:
        done["DetectionStatusReason"] = reason
    stubber.add_response("describe_stack_drift_detection_status", done, None)
    # Two pages: the reader follows NextToken.
    filters = ["MODIFIED", "DELETED"]
    stubber.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": drifts[:1], "NextToken": "t"},
        {"StackName": "app-dev", "StackResourceDriftStatusFilters": filters},
    )
    stubber.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": drifts[1:]},
        {"StackName": "app-dev", "StackResourceDriftStatusFilters": filters, "NextToken": "t"},
    )


def test_memory_and_bucket_notification_drift_are_named_with_both_values(cfn):
    client, stubber = cfn
    _detection(stubber, "DRIFTED", [MEMORY, NOTIFICATION])
    slept = []
    found = drift.detect(client, "app-dev", sleep=slept.append)
    assert found.drifted and slept == [0.1]
    rows = drift.rows(found)
    assert ("Function (AWS::Lambda::Function)", "MODIFIED", "/MemorySize", "256", "1024") in rows
    (bucket_row,) = [r for r in rows if r[0].startswith("UploadsBucket")]
    assert bucket_row[2] == "/NotificationConfiguration/LambdaConfigurations/0" and bucket_row[4] == "null"
    error = drift.failure("app-dev", found)
    assert isinstance(error, UserError) and error.exit_code == 2
    assert "Function, UploadsBucket changed outside the pipeline" in str(error) and "--reconcile" in str(error)


def test_a_clean_stack_reports_no_drift(cfn):
    client, stubber = cfn
    _detection(stubber, "IN_SYNC", [], in_progress=0)
    found = drift.detect(client, "app-dev")
    assert not found.drifted and drift.rows(found) == []
    assert drift.summary("app-dev", found) == "Stack app-dev: no drift (IN_SYNC); every checked resource matches git."


def test_a_partly_failed_detection_still_reports_and_says_what_was_not_checked(cfn):
    client, stubber = cfn
    reason = "Failed to detect drift on resource [FunctionEventInvokeConfig]: resource type not supported"
    _detection(stubber, "DRIFTED", [MEMORY], in_progress=0, detection="DETECTION_FAILED", reason=reason)
    found = drift.detect(client, "app-dev")
    assert found.drifted and found.reason == reason


def test_a_deleted_resource_has_one_row():
    found = drift.Detection("DRIFTED", [drift.DriftedResource("FailureQueue", "AWS::SQS::Queue", "DELETED")])
    assert drift.rows(found) == [("FailureQueue (AWS::SQS::Queue)", "DELETED", "-", "exists", "deleted")]


def test_a_detection_that_never_finishes_times_out_with_advice(cfn):
    client, stubber = cfn
    stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-1"}, None)
    status = {"StackId": STACK_ID, "StackDriftDetectionId": "d-1", "Timestamp": NOW}
    stubber.add_response(
        "describe_stack_drift_detection_status", {**status, "DetectionStatus": "DETECTION_IN_PROGRESS"}, None
    )
    now = [0.0]
    with pytest.raises(UserError, match="did not finish within 5 s"):
        drift.detect(
            client, "app-dev", timeout=5, sleep=lambda s: None, clock=lambda: now.__setitem__(0, now[0] + 6) or now[0]
        )


def test_reconcile_always_asks_cloudformation_with_a_drift_aware_change_set(cfn):
    """An unchanged template says nothing about live state: no shortcut, and DeploymentMode REVERT_DRIFT."""
    from pathlib import Path

    from botocore.stub import ANY

    from pipeline.deploy import Deployer, DeployRequest
    from pipeline.template import Template

    client, stubber = cfn
    body = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    stack = {"StackName": "app-dev", "StackId": STACK_ID, "StackStatus": "UPDATE_COMPLETE", "CreationTime": NOW}
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "app-dev"})
    expected = {
        **dict.fromkeys(("ChangeSetName", "Capabilities", "Parameters", "Tags", "Description", "TemplateBody"), ANY),
        "StackName": "app-dev",
        "ChangeSetType": "UPDATE",
        "DeploymentMode": "REVERT_DRIFT",
    }
    stubber.add_response("create_change_set", {"Id": "cs"}, expected)
    reason = "The submitted information didn't contain changes. Submit different information to create a change set."
    stubber.add_response("describe_change_set", {"Status": "FAILED", "StatusReason": reason}, None)
    stubber.add_response("delete_change_set", {}, None)
    request = DeployRequest("app-dev", Template(Path("t.yaml"), body, {"Resources": {}}), revert_drift=True)
    assert Deployer(client, sleep=lambda s: None).deploy(request).outcome == "no changes"


DRIFT_CALLS = [
    ("cloudformation:DetectStackDrift", "arn:aws:cloudformation:us-east-1:123456789012:stack/s3-lambda-gitops-{env}/1"),
    (
        "cloudformation:DescribeStackResourceDrifts",
        "arn:aws:cloudformation:us-east-1:123456789012:stack/s3-lambda-gitops-{env}/1",
    ),
    ("cloudformation:DescribeStacks", "arn:aws:cloudformation:us-east-1:123456789012:stack/s3-lambda-gitops-{env}/1"),
    ("cloudformation:DescribeStackDriftDetectionStatus", "*"),
    ("lambda:GetFunction", "arn:aws:lambda:us-east-1:123456789012:function:s3-lambda-gitops-{env}-handler"),
    ("s3:GetBucketNotification", "arn:aws:s3:::s3-lambda-gitops-{env}-123456789012-us-east-1"),
    ("iam:GetRole", "arn:aws:iam::123456789012:role/s3-lambda-gitops-{env}-FunctionRole-ABC"),
]


def test_the_drift_role_reads_its_own_environment_only_and_writes_nothing():
    from test_trust_policy import allows, rendered_environments, role_policies

    stacks = rendered_environments(["staging", "production"])
    for env, stack in stacks.items():
        role = stack["DriftRole"]["Properties"]
        policy = role_policies(role)
        other = "production" if env == "staging" else "staging"
        for action, resource in DRIFT_CALLS:
            assert allows(policy, action, resource.format(env=env)), (env, action)
            if "{env}" in resource:
                assert not allows(policy, action, resource.format(env=other)), (env, other, action)
        granted = [
            a
            for d in policy
            for s in d["Statement"]
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        ]
        writes = [a for a in granted if not a.split(":")[1].startswith(("Get", "List", "Describe", "Detect"))]
        assert writes == [], writes
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        conditions = trust["Condition"]["StringEquals"]
        assert conditions["token.actions.githubusercontent.com:job_workflow_ref"].endswith(
            "/.github/workflows/drift.yml@refs/heads/main"
        )
        assert stack["Outputs"]["DriftRoleArn"]
