"""What outside clients and public templates need from IAM and Lambda: AWS-managed policies, and runtimes the
local cloud cannot run accepted as on AWS but never run as something else."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest
from fixtures_lambda.functions import create_function, log_events, unique, zip_of

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def test_an_aws_managed_policy_can_be_attached_and_read(client):
    """AWSLambdaBasicExecutionRole exists in every account (IAM User Guide, "AWS managed policies"); plain moto
    answers NoSuchEntity unless it loads all ~1,000 at start."""
    iam = client("iam")
    role = unique("managed")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName=role, PolicyArn=BASIC_EXECUTION)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC_EXECUTION}]
    policy = iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]
    assert (policy["Path"], policy["Arn"]) == ("/service-role/", BASIC_EXECUTION)
    version = iam.get_policy_version(PolicyArn=BASIC_EXECUTION, VersionId=policy["DefaultVersionId"])
    actions = {a for s in version["PolicyVersion"]["Document"]["Statement"] for a in s["Action"]}
    assert "logs:PutLogEvents" in actions


def test_a_policy_aws_does_not_have_is_still_not_found(client):
    iam = client("iam")
    role = unique("managed")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"


NODE_HANDLER = "exports.handler = async () => { console.log('ran as node'); return 'node'; };\n"


def test_a_nodejs_function_is_accepted_but_every_invocation_is_a_platform_error(client):
    """AWS accepts the function; the local cloud cannot run Node.js, so Invoke fails with Lambda's platform error
    InvalidRuntimeException (HTTP 502, Lambda API Reference, Invoke) naming the runtime, and nothing runs."""
    code = zip_of({"index.js": NODE_HANDLER, "index.py": "def handler(event, context):\n    return 'python'\n"})
    created = create_function(client, "handler", code=code, Runtime="nodejs20.x", Handler="index.handler")
    assert created["Runtime"] == "nodejs20.x"
    name = created["FunctionName"]
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            client("lambda").invoke(FunctionName=name, Payload=b"{}")
        error = caught.value.response["Error"]
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
        assert error["Code"] == "InvalidRuntimeException"
        assert "nodejs20.x" in error["Message"]
    assert log_events(client, f"/aws/lambda/{name}") == []  # never started, not even as Python


def test_a_template_role_with_an_aws_managed_policy_is_created_with_it(client):
    """What SAM and most public templates do: ``ManagedPolicyArns`` naming AWSLambdaBasicExecutionRole."""
    cfn = client("cloudformation")
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": TRUST, "ManagedPolicyArns": [BASIC_EXECUTION]},
    }
    stack = unique("managed-policy")
    cfn.create_stack(
        StackName=stack, TemplateBody=json.dumps({"Resources": {"Role": role}}), Capabilities=["CAPABILITY_IAM"]
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    name = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Role")["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    attached = client("iam").list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [BASIC_EXECUTION]
