"""CloudFormation validates before it changes anything: parameter constraints and the inline template size."""

from __future__ import annotations

import botocore.exceptions
import pytest
from stack_waits import change_set_settled, settled

from localcloud.cloudformation.parameters import problem

TEMPLATE = """
Parameters:
  Key:
    Type: String
    AllowedPattern: "^artifacts/[a-z0-9]+\\\\.zip$"
    ConstraintDescription: must be artifacts/<name>.zip.
  Retention:
    Type: Number
    Default: 14
    AllowedValues: [1, 14, 30]
  Memory:
    Type: Number
    Default: 256
    MinValue: 128
    MaxValue: 1024
Resources:
  Queue:
    Type: AWS::SQS::Queue
"""


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"Key": "other/x.zip"}, "Parameter 'Key' failed to satisfy constraint: must be artifacts/<name>.zip."),
        ({"Key": "artifacts/a.zip", "Retention": "15"}, "Parameter 'Retention' must be one of AllowedValues"),
        ({"Key": "artifacts/a.zip", "Memory": "64"}, "Parameter 'Memory' must be a number not less than 128"),
        ({"Key": "artifacts/a.zip", "Memory": "lots"}, "Parameter 'Memory' must be a number"),
    ],
)
def test_a_value_that_breaks_its_declaration_is_refused(client, parameters, message):
    cfn = client("cloudformation")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cfn.create_change_set(
            StackName="constraints-refused",
            ChangeSetName="c1",
            ChangeSetType="CREATE",
            TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert caught.value.response["Error"]["Message"] == message
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):  # nothing was created
        cfn.describe_stacks(StackName="constraints-refused")


def test_valid_values_pass(client):
    cfn = client("cloudformation")
    cfn.create_change_set(
        StackName="constraints-ok", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Key", "ParameterValue": "artifacts/abc.zip"}],
    )  # fmt: skip
    assert change_set_settled(cfn, "constraints-ok", "c1")["Status"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName="constraints-ok")
    settled(cfn, "constraints-ok")


def test_list_items_are_checked_one_by_one():
    slot = {"Type": "CommaDelimitedList", "AllowedPattern": "^[a-z]*$"}
    assert problem(["staging", "production"], slot) is None
    assert problem(["staging", "prod*"], slot) == "must match pattern ^[a-z]*$"


def test_an_inline_template_over_51200_bytes_is_refused(client):
    padding = "\n".join(f"# {'x' * 100}" for _ in range(520))  # comments count: the limit is on the bytes sent
    body = TEMPLATE + padding
    assert len(body.encode()) > 51_200
    with pytest.raises(botocore.exceptions.ClientError, match="less than or equal to 51200"):
        client("cloudformation").create_change_set(
            StackName="too-big", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=body,
            Parameters=[{"ParameterKey": "Key", "ParameterValue": "artifacts/abc.zip"}],
        )  # fmt: skip


UNKNOWN_TYPE = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Broken:
    Type: AWS::Nope::Nothing
  AlsoBroken:
    Type: AWS::Local::DoesNotExist
  Again:
    Type: AWS::Nope::Nothing
"""
UNRECOGNIZED = "Template format error: Unrecognized resource types: [AWS::Nope::Nothing, AWS::Local::DoesNotExist]"
QUEUE_ONLY = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"


def _refused(call, **kwargs) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    return caught.value.response["Error"]["Message"]


def test_an_unknown_resource_type_is_refused_before_a_stack_exists(client):
    cfn = client("cloudformation")
    assert _refused(cfn.create_stack, StackName="unknown-type", TemplateBody=UNKNOWN_TYPE) == UNRECOGNIZED
    kwargs = {"StackName": "unknown-type", "ChangeSetName": "c1", "ChangeSetType": "CREATE"}
    assert _refused(cfn.create_change_set, TemplateBody=UNKNOWN_TYPE, **kwargs) == UNRECOGNIZED
    with pytest.raises(botocore.exceptions.ClientError, match="does not exist"):  # not even REVIEW_IN_PROGRESS
        cfn.describe_stacks(StackName="unknown-type")


def test_an_unknown_resource_type_is_refused_on_update(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="unknown-type-update", TemplateBody=QUEUE_ONLY)
    settled(cfn, "unknown-type-update")
    assert _refused(cfn.update_stack, StackName="unknown-type-update", TemplateBody=UNKNOWN_TYPE) == UNRECOGNIZED
    kwargs = {"StackName": "unknown-type-update", "ChangeSetName": "c1", "TemplateBody": UNKNOWN_TYPE}
    assert _refused(cfn.create_change_set, **kwargs) == UNRECOGNIZED
    stack = cfn.describe_stacks(StackName="unknown-type-update")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert cfn.list_change_sets(StackName="unknown-type-update")["Summaries"] == []
    cfn.delete_stack(StackName="unknown-type-update")
    settled(cfn, "unknown-type-update")


def test_custom_and_wait_condition_types_are_recognized(client):
    cfn = client("cloudformation")
    body = QUEUE_ONLY + (
        "  Custom:\n    Type: Custom::Thing\n"
        "    Properties: {ServiceToken: arn:aws:lambda:us-east-1:123456789012:function:x}\n"
        "  Handle:\n    Type: AWS::CloudFormation::WaitConditionHandle\n"
    )
    cfn.create_change_set(StackName="known-types", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=body)
    assert change_set_settled(cfn, "known-types", "c1")["Status"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName="known-types")
    settled(cfn, "known-types")
