"""Bad templates get CloudFormation's answer before anything is created, and the local cloud keeps serving.

AWS answers (ValidationError, nothing created): "Template format error: YAML not well-formed. (line L, column C)"
/ "Template format error: JSON not well-formed. (line L, column C)" for a body that does not parse; "Circular
dependency between resources: [A, B]" for a DependsOn cycle; "Template format error: Unresolved resource
dependencies [X] in the Resources block of the template" for a Ref to nothing (the texts AWS users report, e.g.
`aws cloudformation validate-template` output quoted in the AWS re:Post and cfn-lint issue threads).
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
    ],
    ids=["malformed YAML", "malformed JSON", "cyclic DependsOn", "Ref to nothing"],
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
