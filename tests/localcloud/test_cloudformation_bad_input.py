"""Bad templates get CloudFormation's answer before anything is created, and the local cloud keeps serving.

AWS answers (ValidationError, nothing created): "Template format error: YAML not well-formed. (line L, column C)"
/ "Template format error: JSON not well-formed. (line L, column C)" for a body that does not parse; "Circular
dependency between resources: [A, B]" for a DependsOn cycle; "Template format error: Unresolved resource
dependencies [X] in the Resources block of the template" for a Ref to nothing (the texts AWS users report, e.g.
`aws cloudformation validate-template` output quoted in the AWS re:Post and cfn-lint issue threads); "Template
error: resource X does not support attribute type Y in Fn::GetAtt" for an attribute the type does not have (as
serverless/serverless users quote AWS, and moto's own UnformattedGetAttTemplateException); "Template error:
unresolved condition dependency X in Fn::If" for an Fn::If on an undefined condition (AWS's words quoted in
aws-cdk users' code); a resource whose Condition is undefined is refused too (wording not recorded: code only);
"Invalid template property or properties [X]" for a top-level key outside the template anatomy (as sam deploy
users quote AWS, e.g. "[esbuild]"; whether AWS puts "Template format error: " before it is not shown, so only
the end is checked).
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

CYCLE = """
Resources:
  First:
    Type: AWS::SQS::Queue
    DependsOn: Second
  Second:
    Type: AWS::SQS::Queue
    DependsOn: First
"""
REF_TO_NOTHING = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref Nothing
"""
UNRESOLVED = "Template format error: Unresolved resource dependencies [Nothing] in the Resources block of the template"
IF_ON_NOTHING = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      DelaySeconds: !If [Nope, 1, 2]
"""
BAD_ATTRIBUTE = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  Url:
    Value: !GetAtt Queue.Nope
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "Resources:\n  Queue:\n    Type: [AWS::SQS::Queue\n",
            "Template format error: YAML not well-formed. (line 4, column 1)",
        ),
        (
            '{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}',
            "Template format error: JSON not well-formed. (line 1, column 53)",
        ),
        (CYCLE, "Circular dependency between resources: [First, Second]"),
        (REF_TO_NOTHING, UNRESOLVED),
        (BAD_ATTRIBUTE, "Template error: resource Queue does not support attribute type Nope in Fn::GetAtt"),
        (IF_ON_NOTHING, "Template error: unresolved condition dependency Nope in Fn::If"),
    ],
    ids=[
        "malformed YAML",
        "malformed JSON",
        "cyclic DependsOn",
        "Ref to nothing",
        "GetAtt of no attribute",
        "Fn::If on no condition",
    ],
)
def test_a_bad_template_is_refused_and_nothing_is_created(client, body: str, message: str) -> None:
    cf = client("cloudformation")
    stack = f"cfn-bad-{uuid.uuid4().hex[:8]}"
    for call, kwargs in (
        (cf.create_stack, {}),
        (cf.create_change_set, {"ChangeSetName": "c1", "ChangeSetType": "CREATE"}),
        (cf.validate_template, None),
    ):
        with pytest.raises(ClientError) as raised:
            call(TemplateBody=body, **({"StackName": stack, **kwargs} if kwargs is not None else {}))
        error = raised.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("ValidationError", message)
    with pytest.raises(ClientError, match="does not exist"):
        cf.describe_stacks(StackName=stack)
    assert client("sqs").list_queues(QueueNamePrefix=stack).get("QueueUrls") is None
    assert cf.validate_template(TemplateBody="Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n")  # still serving


def test_a_top_level_key_outside_the_template_anatomy_is_refused(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-bad-{uuid.uuid4().hex[:8]}"
    body = "Resoures:\n  Typo: 1\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
    with pytest.raises(ClientError) as raised:
        cf.create_stack(StackName=stack, TemplateBody=body)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"].endswith("Invalid template property or properties [Resoures]")
    with pytest.raises(ClientError, match="does not exist"):
        cf.describe_stacks(StackName=stack)


def test_the_attributes_a_type_has_are_accepted(client) -> None:
    """The documented return values of the project's types (e.g. AWS::SQS::Queue Arn and QueueUrl, a bucket's
    DomainName, a role's RoleId) pass the check."""
    cf = client("cloudformation")
    body = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  A: {Value: !GetAtt Queue.Arn}
  B: {Value: !GetAtt [Queue, QueueUrl]}
  C: {Value: !GetAtt Bucket.DomainName}
  D: {Value: !GetAtt Bucket.RegionalDomainName}
"""
    assert "Parameters" in cf.validate_template(TemplateBody=body)


def test_a_resource_on_an_undefined_condition_is_refused(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-bad-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as raised:
        cf.create_stack(StackName=stack, TemplateBody="Resources:\n  Queue: {Type: AWS::SQS::Queue, Condition: Nope}\n")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError, match="does not exist"):
        cf.describe_stacks(StackName=stack)
