"""Conformance through boto3 against a started local cloud: pre-deployment validation, DescribeEvents, custom
resources and drift detection, as AWS documents and records them.

Sources, per test: the User Guide "Validate stack deployments" (FAIL-mode property and name checks; the example
VALIDATION_ERROR "#/...: required key [Event] not found"), change sets failed by early validation as recorded in
deploy logs ("The following hook(s)/validation failed: [AWS::EarlyValidation::PropertyValidation]. To
troubleshoot Early Validation errors, use the DescribeEvents API for detailed failure information."), the
CreateStack API reference (Capabilities; InsufficientCapabilitiesException "Requires capabilities :
[CAPABILITY_IAM]"), the custom resource request/response objects, and LocalStack's recording of AWS's drift
answer (tests/aws/services/cloudformation/api/test_drift_detection.snapshot.json).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from fixtures_lambda.custom_resource import create_custom_resource_function
from fixtures_lambda.functions import role_arn, wait_for_logs, zip_of
from stack_waits import change_set_settled

PROPERTY_REASON = (
    "The following hook(s)/validation failed: [AWS::EarlyValidation::PropertyValidation]. To troubleshoot Early "
    "Validation errors, use the DescribeEvents API for detailed failure information."
)
EXISTENCE_REASON = PROPERTY_REASON.replace("PropertyValidation", "ResourceExistenceCheck")
ROOT = Path(__file__).resolve().parents[2]


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _template(resources: dict, outputs: dict | None = None) -> str:
    return json.dumps({"Resources": resources, **({"Outputs": outputs} if outputs else {})})


def _settled(cf, stack: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = cf.describe_stacks(StackName=stack)["Stacks"][0]
        if not found["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return found
        time.sleep(0.05)  # the local cloud settles in milliseconds


def _change_set(cf, stack: str, body: str) -> dict:
    made = cf.create_change_set(StackName=stack, ChangeSetName="cs", ChangeSetType="CREATE", TemplateBody=body)
    return change_set_settled(cf, None, made["Id"])


def test_change_set_with_an_unknown_property_fails_with_aws_reason_and_events(client):
    cf = client("cloudformation")
    stack = _name("ev-unknown")
    body = _template({"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionDays": 14}}})
    described = _change_set(cf, stack, body)
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"] == PROPERTY_REASON

    events = cf.describe_events(ChangeSetName=described["ChangeSetId"], Filters={"FailedEvents": True})[
        "OperationEvents"
    ]
    assert [
        (e["EventType"], e["ValidationName"], e["ValidationPath"], e["ValidationStatusReason"]) for e in events
    ] == [
        (
            "VALIDATION_ERROR",
            "PROPERTY_VALIDATION",
            "/Resources/Logs/Properties",
            "#: extraneous key [RetentionDays] is not permitted",
        )
    ]
    assert (events[0]["ValidationStatus"], events[0]["ValidationFailureMode"]) == ("FAILED", "FAIL")
    assert (events[0]["LogicalResourceId"], events[0]["ResourceType"]) == ("Logs", "AWS::Logs::LogGroup")
    assert events[0]["OperationType"] == "CREATE_CHANGESET"
    by_operation = cf.describe_events(OperationId=events[0]["OperationId"])["OperationEvents"]
    assert [e["EventId"] for e in by_operation] == [events[0]["EventId"]]


def test_retention_of_13_days_is_refused_before_anything_is_created(client):
    cf, logs = client("cloudformation"), client("logs")
    group = f"/ev/{_name('g')}"
    body = _template(
        {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": group, "RetentionInDays": 13}}}
    )
    described = _change_set(cf, _name("ev-retention"), body)
    assert described["StatusReason"] == PROPERTY_REASON
    [event] = cf.describe_events(ChangeSetName=described["ChangeSetId"])["OperationEvents"]
    assert (event["ValidationPath"], event["ValidationStatusReason"]) == (
        "/Resources/Logs/Properties/RetentionInDays",
        "#/RetentionInDays: 13 is not a valid enum value",
    )
    assert not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]


def test_a_bucket_name_already_taken_fails_the_resource_existence_check(client):
    cf, s3 = client("cloudformation"), client("s3")
    bucket = _name("ev-taken")
    s3.create_bucket(Bucket=bucket)
    described = _change_set(
        cf, _name("ev-conflict"), _template({"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}})
    )
    assert described["StatusReason"] == EXISTENCE_REASON
    [event] = cf.describe_events(ChangeSetName=described["ChangeSetId"], Filters={"FailedEvents": True})[
        "OperationEvents"
    ]
    assert (event["ValidationName"], event["ValidationPath"], event["PhysicalResourceId"]) == (
        "NAME_CONFLICT_VALIDATION",
        "/Resources/B/Properties/BucketName",
        bucket,
    )
    assert (
        event["ValidationStatusReason"]
        == f"Resource of type 'AWS::S3::Bucket' with identifier '{bucket}' already exists."
    )


def test_a_log_group_lambda_already_made_is_a_name_conflict(client):
    """aws-cdk #667: a template log group named like one Lambda auto-created fails with "already exists"."""
    cf, logs = client("cloudformation"), client("logs")
    group = f"/aws/lambda/{_name('auto')}"
    logs.create_log_group(logGroupName=group)
    body = _template(
        {"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": group, "RetentionInDays": 14}}}
    )
    described = _change_set(cf, _name("ev-group"), body)
    assert described["StatusReason"] == EXISTENCE_REASON
    [event] = cf.describe_events(ChangeSetName=described["ChangeSetId"])["OperationEvents"]
    assert (
        event["ValidationStatusReason"]
        == f"Resource of type 'AWS::Logs::LogGroup' with identifier '{group}' already exists."
    )
    assert event["ValidationPath"] == "/Resources/Logs/Properties/LogGroupName"


@pytest.mark.parametrize(
    ("properties", "capability"),
    [({}, "CAPABILITY_IAM"), ({"RoleName": "named-by-template"}, "CAPABILITY_NAMED_IAM")],
)
def test_iam_role_without_the_capability_is_refused(client, properties, capability):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    body = _template(
        {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust, **properties}}}
    )
    with pytest.raises(ClientError) as raised:
        client("cloudformation").create_stack(StackName=_name("ev-iam"), TemplateBody=body)
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InsufficientCapabilitiesException",
        f"Requires capabilities : [{capability}]",
    )


@pytest.fixture(scope="module")
def service_token(client) -> str:
    return create_custom_resource_function(client)


def test_custom_resource_success_feeds_getatt(client, service_token):
    cf = client("cloudformation")
    stack = _name("cr-ok")
    resources = {"Thing": {"Type": "Custom::Greeter", "Properties": {"ServiceToken": service_token, "Name": "world"}}}
    outputs = {"Greeting": {"Value": {"Fn::GetAtt": ["Thing", "Greeting"]}}, "Id": {"Value": {"Ref": "Thing"}}}
    cf.create_stack(StackName=stack, TemplateBody=_template(resources, outputs))
    found = _settled(cf, stack)
    assert found["StackStatus"] == "CREATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in found["Outputs"]} == {
        "Greeting": "hello world",
        "Id": "thing-Thing",
    }
    cf.delete_stack(StackName=stack)
    assert _settled(cf, found["StackId"])["StackStatus"] == "DELETE_COMPLETE"


def test_custom_resource_failed_answer_fails_the_stack_with_its_reason(client, service_token):
    cf = client("cloudformation")
    stack = _name("cr-fail")
    properties = {"ServiceToken": service_token, "Answer": "FAILED", "Reason": "quota exceeded"}
    cf.create_stack(
        StackName=stack,
        TemplateBody=_template({"Thing": {"Type": "AWS::CloudFormation::CustomResource", "Properties": properties}}),
    )
    assert _settled(cf, stack)["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    [failed] = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["ResourceStatusReason"].startswith(
        "Received response status [FAILED] from custom resource. Message returned: quota exceeded (RequestId: "
    )
    [error] = [
        e
        for e in cf.describe_events(StackName=stack, Filters={"FailedEvents": True})["OperationEvents"]
        if e["EventType"] == "PROVISIONING_ERROR"
    ]
    assert (error["LogicalResourceId"], error["ResourceStatus"]) == ("Thing", "CREATE_FAILED")
    assert error["ResourceStatusReason"] == failed["ResourceStatusReason"]


def test_custom_resource_that_never_answers_times_out(client, service_token):
    cf = client("cloudformation")
    stack = _name("cr-silent")
    properties = {"ServiceToken": service_token, "Answer": "NONE", "ServiceTimeout": 1}
    cf.create_stack(
        StackName=stack, TemplateBody=_template({"Thing": {"Type": "Custom::Silent", "Properties": properties}})
    )
    assert _settled(cf, stack)["StackStatus"] == "ROLLBACK_COMPLETE"
    [failed] = [
        e for e in cf.describe_stack_events(StackName=stack)["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert failed["ResourceStatusReason"].startswith(
        "CloudFormation did not receive a response from your Custom Resource."
    )


def test_describe_events_of_a_successful_create(client):
    cf = client("cloudformation")
    stack = _name("ev-ok")
    cf.create_stack(StackName=stack, TemplateBody=_template({"Queue": {"Type": "AWS::SQS::Queue"}}))
    assert _settled(cf, stack)["StackStatus"] == "CREATE_COMPLETE"
    events = cf.describe_events(StackName=stack)["OperationEvents"]
    assert {e["OperationType"] for e in events} == {"CREATE_STACK"}
    assert {e["OperationStatus"] for e in events} == {"SUCCEEDED"}
    kinds = [(e["EventType"], e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]
    assert kinds[0] == ("STACK_EVENT", stack, "CREATE_IN_PROGRESS") and kinds[-1] == (
        "STACK_EVENT",
        stack,
        "CREATE_COMPLETE",
    )
    assert ("PROGRESS_EVENT", "Queue", "CREATE_COMPLETE") in kinds
    assert cf.describe_events(StackName=stack, Filters={"FailedEvents": True})["OperationEvents"] == []
    with pytest.raises(ClientError) as raised:
        cf.describe_events()
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def _drift_status(cf, detection_id: str) -> dict:
    deadline = time.monotonic() + 30
    while (status := cf.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id))[
        "DetectionStatus"
    ] == "DETECTION_IN_PROGRESS":
        assert time.monotonic() < deadline
        time.sleep(0.05)  # the local cloud settles in milliseconds
    return status


def test_drift_detection_names_the_changed_memory(client):
    cf, lam = client("cloudformation"), client("lambda")
    stack = _name("drift")
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.11",
            "Handler": "index.handler",
            "Role": role_arn(client),
            "MemorySize": 256,
            "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"},
        },
    }
    cf.create_stack(
        StackName=stack, TemplateBody=_template({"Function": function, "Queue": {"Type": "AWS::SQS::Queue"}})
    )
    assert _settled(cf, stack)["StackStatus"] == "CREATE_COMPLETE"
    clean = _drift_status(cf, cf.detect_stack_drift(StackName=stack)["StackDriftDetectionId"])
    assert (clean["DetectionStatus"], clean["StackDriftStatus"], clean["DriftedStackResourceCount"]) == (
        "DETECTION_COMPLETE",
        "IN_SYNC",
        0,
    )

    name = cf.describe_stack_resource(StackName=stack, LogicalResourceId="Function")["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    lam.update_function_configuration(FunctionName=name, MemorySize=512)
    drifted = _drift_status(cf, cf.detect_stack_drift(StackName=stack)["StackDriftDetectionId"])
    assert (drifted["StackDriftStatus"], drifted["DriftedStackResourceCount"]) == ("DRIFTED", 1)
    [modified] = cf.describe_stack_resource_drifts(StackName=stack, StackResourceDriftStatusFilters=["MODIFIED"])[
        "StackResourceDrifts"
    ]
    assert modified["LogicalResourceId"] == "Function" and modified["StackResourceDriftStatus"] == "MODIFIED"
    assert modified["PropertyDifferences"] == [
        {"PropertyPath": "/MemorySize", "ExpectedValue": "256", "ActualValue": "512", "DifferenceType": "NOT_EQUAL"}
    ]
    assert json.loads(modified["ExpectedProperties"])["MemorySize"] == 256
    assert json.loads(modified["ActualProperties"])["MemorySize"] == 512
    single = cf.detect_stack_resource_drift(StackName=stack, LogicalResourceId="Function")["StackResourceDrift"]
    assert single["StackResourceDriftStatus"] == "MODIFIED"
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["DriftInformation"]["StackDriftStatus"] == "DRIFTED"
    detail = cf.describe_stack_resource(StackName=stack, LogicalResourceId="Queue")["StackResourceDetail"]
    assert detail["DriftInformation"]["StackResourceDriftStatus"] == "IN_SYNC"


def test_the_project_stack_is_in_sync_until_changed_by_hand(client):
    """cloudformation/app.yaml as deployed: no false drift; then issue 8's case, memory and notification by hand."""
    cf, s3, lam = client("cloudformation"), client("s3"), client("lambda")
    stack = _name("drift-app")
    artifacts = f"{stack}-artifacts"
    s3.create_bucket(Bucket=artifacts)
    code = zip_of({"handler.py": "def handler(event, context):\n    return 1\n"})
    key = f"artifacts/staging/{hashlib.sha256(code).hexdigest()}.zip"
    s3.put_object(Bucket=artifacts, Key=key, Body=code)
    parameters = [
        {"ParameterKey": "ArtifactBucket", "ParameterValue": artifacts},
        {"ParameterKey": "ArtifactKey", "ParameterValue": key},
    ]
    body = (ROOT / "cloudformation" / "app.yaml").read_text()
    cf.create_stack(StackName=stack, TemplateBody=body, Parameters=parameters, Capabilities=["CAPABILITY_IAM"])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in _settled(cf, stack)["Outputs"]}

    clean = _drift_status(cf, cf.detect_stack_drift(StackName=stack)["StackDriftDetectionId"])
    drifts = cf.describe_stack_resource_drifts(StackName=stack)["StackResourceDrifts"]
    assert {d["LogicalResourceId"]: d["StackResourceDriftStatus"] for d in drifts} == {
        "FunctionLogGroup": "IN_SYNC",
        "FailureQueue": "IN_SYNC",
        "FunctionRole": "IN_SYNC",
        "Function": "IN_SYNC",
        "UploadsBucket": "IN_SYNC",
    }, [d.get("PropertyDifferences") for d in drifts]
    assert clean["StackDriftStatus"] == "IN_SYNC"
    role = next(d["PhysicalResourceId"] for d in drifts if d["LogicalResourceId"] == "FunctionRole")
    inline = client("iam").get_role_policy(RoleName=role, PolicyName="write-own-logs-and-failure-queue")
    assert inline["PolicyDocument"]["Version"] == "2012-10-17"  # JSON, as AWS answers (boto3 decodes it)

    lam.update_function_configuration(FunctionName=outputs["FunctionName"], MemorySize=512)
    s3.put_bucket_notification_configuration(Bucket=outputs["BucketName"], NotificationConfiguration={})
    assert (
        _drift_status(cf, cf.detect_stack_drift(StackName=stack)["StackDriftDetectionId"])["StackDriftStatus"]
        == "DRIFTED"
    )
    modified = cf.describe_stack_resource_drifts(StackName=stack, StackResourceDriftStatusFilters=["MODIFIED"])
    paths = {
        d["LogicalResourceId"]: [p["PropertyPath"] for p in d["PropertyDifferences"]]
        for d in modified["StackResourceDrifts"]
    }
    assert paths == {"Function": ["/MemorySize"], "UploadsBucket": ["/NotificationConfiguration/LambdaConfigurations"]}


def _requests(client, function_arn: str, done) -> list[dict]:  # type: ignore[no-untyped-def]
    group = f"/aws/lambda/{function_arn.rsplit(':', 1)[-1]}"
    messages = wait_for_logs(client, group, lambda m: done(_parsed(m)))
    return _parsed(messages)


def _parsed(messages: list[str]) -> list[dict]:
    return [json.loads(m.split("CUSTOMREQUEST ", 1)[1]) for m in messages if "CUSTOMREQUEST " in m]


def test_custom_resource_update_and_replacement(client, service_token):
    """An Update carries OldResourceProperties; a new PhysicalResourceId is a replacement, so CloudFormation sends
    the old one a Delete in the clean-up (User Guide, custom resource request types)."""
    cf = client("cloudformation")
    stack = _name("cr-update")

    def template(physical: str, size: str) -> str:
        properties = {"ServiceToken": service_token, "Physical": physical, "Size": size}
        return _template(
            {"Thing": {"Type": "Custom::Thing", "Properties": properties}},
            {"Size": {"Value": {"Fn::GetAtt": ["Thing", "Size"]}}},
        )

    cf.create_stack(StackName=stack, TemplateBody=template(f"{stack}-a", "1"))
    assert _settled(cf, stack)["StackStatus"] == "CREATE_COMPLETE"
    cf.update_stack(StackName=stack, TemplateBody=template(f"{stack}-a", "2"))
    updated = _settled(cf, stack)
    assert (updated["StackStatus"], updated["Outputs"][0]["OutputValue"]) == ("UPDATE_COMPLETE", "2")
    cf.update_stack(StackName=stack, TemplateBody=template(f"{stack}-b", "3"))
    assert _settled(cf, stack)["StackStatus"] == "UPDATE_COMPLETE"

    def mine(found: list[dict]) -> list[dict]:
        return [r for r in found if r["StackId"] == updated["StackId"]]

    seen = mine(_requests(client, service_token, lambda found: any(r["RequestType"] == "Delete" for r in mine(found))))
    assert [(r["RequestType"], r.get("PhysicalResourceId")) for r in seen] == [
        ("Create", None),
        ("Update", f"{stack}-a"),
        ("Update", f"{stack}-a"),
        ("Delete", f"{stack}-a"),
    ]
    assert (seen[1]["OldResourceProperties"]["Size"], seen[1]["ResourceProperties"]["Size"]) == ("1", "2")
    physical = cf.describe_stack_resource(StackName=stack, LogicalResourceId="Thing")["StackResourceDetail"]
    assert physical["PhysicalResourceId"] == f"{stack}-b"


def test_disable_validation_and_the_operation_id_of_create_stack(client):
    """CreateStack/CreateChangeSet accept DisableValidation (skip pre-deployment validation); CreateStack answers
    the OperationId that DescribeEvents takes (botocore 1.44.8 model: CreateStackOutput.OperationId)."""
    cf = client("cloudformation")
    body = _template({"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 14}}})
    stack = _name("ev-opid")
    created = cf.create_stack(StackName=stack, TemplateBody=body)
    assert _settled(cf, stack)["StackStatus"] == "CREATE_COMPLETE"
    events = cf.describe_events(OperationId=created["OperationId"])["OperationEvents"]
    assert {e["OperationId"] for e in events} == {created["OperationId"]} and len(events) >= 4

    unknown = _template({"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionDays": 14}}})
    made = cf.create_change_set(
        StackName=_name("ev-off"),
        ChangeSetName="cs",
        ChangeSetType="CREATE",
        TemplateBody=unknown,
        DisableValidation=True,
    )
    described = change_set_settled(cf, None, made["Id"])
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    assert cf.describe_events(ChangeSetName=made["Id"])["OperationEvents"] == []
