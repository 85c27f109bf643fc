"""Stack policies: GetStackPolicy / SetStackPolicy, CreateStack's StackPolicyBody, and updates the policy refuses.

AWS facts used (and where they come from):
- Answers recorded from AWS in localstack's tests/aws/services/cloudformation/api/test_stack_policies.snapshot.json:
  GetStackPolicy of a stack without a policy has no StackPolicyBody (test_policy_lifecycle "initial_policy"); it
  returns the policy that was set ("policy", "policy_updated"), and ``{}`` once an empty policy is set
  ("policy_deleted"); a policy that is not JSON or has another Principal than ``*`` is refused with
  ValidationError "Error validating stack policy: Invalid stack policy" (test_not_json_policy,
  test_different_principal_attribute); body and URL together with "You cannot specify both StackPolicyURL and
  StackPolicyBody" (test_set_policy_both_policy_and_url); CreateStack's StackPolicyBody is the stack's policy
  (test_create_stack_with_policy).
- User Guide, "Prevent updates to stack resources": once a policy is set every resource is protected unless a
  statement allows the update; an explicit Deny overrides Allow; Update:Modify, Update:Replace, Update:Delete.
  A refused resource fails the update, whose event reason starts "Action denied by stack policy" (explicit Deny)
  or "Action not allowed by stack policy" (no Allow), as localstack's AWS-validated test_stack_policies.py looks
  for, e.g. "Action denied by stack policy: Statement [#1] does not allow [Update:Replace] for resource
  [LogicalResourceId/DB]". UpdateStack's StackPolicyDuringUpdateBody overrides the policy for that update.
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError
from stack_waits import error_of, settled

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: one}
  Suffix: {Type: String, Default: a}
Resources:
  Named:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-${Suffix}"
      Tags: [{Key: stage, Value: !Ref Stage}]
  Plain:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: stage, Value: !Ref Stage}]
"""
WITHOUT_PLAIN = TEMPLATE.split("  Plain:")[0]
INVALID = ("ValidationError", "Error validating stack policy: Invalid stack policy")


def _policy(*statements: dict) -> str:
    return json.dumps({"Statement": list(statements)})


def _statement(effect: str, action: str, resource: str = "*") -> dict:
    return {"Effect": effect, "Action": action, "Principal": "*", "Resource": resource}


ALLOW_ALL = _statement("Allow", "Update:*")


def _params(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _reasons(cf, stack: str, logical_id: str, status: str) -> list[str]:
    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        e.get("ResourceStatusReason", "")
        for e in events
        if e["LogicalResourceId"] == logical_id and e["ResourceStatus"] == status
    ]


@pytest.fixture
def stack(client):
    cf = client("cloudformation")
    name = f"cfn-policy-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=name, TemplateBody=TEMPLATE)["StackId"]
    settled(cf, name)
    yield name
    cf.delete_stack(StackName=name)
    settled(cf, stack_id)


def test_get_and_set_stack_policy_as_recorded(client, stack) -> None:
    cf = client("cloudformation")
    assert "StackPolicyBody" not in cf.get_stack_policy(StackName=stack)
    allow = _policy(ALLOW_ALL)
    cf.set_stack_policy(StackName=stack, StackPolicyBody=allow)
    assert json.loads(cf.get_stack_policy(StackName=stack)["StackPolicyBody"]) == json.loads(allow)
    cf.set_stack_policy(StackName=stack, StackPolicyBody="{}")
    assert json.loads(cf.get_stack_policy(StackName=stack)["StackPolicyBody"]) == {}

    for bad in ("not-json", _policy({**ALLOW_ALL, "Principal": "someone"})):
        with pytest.raises(ClientError) as raised:
            cf.set_stack_policy(StackName=stack, StackPolicyBody=bad)
        assert error_of(raised) == INVALID
    with pytest.raises(ClientError) as raised:
        cf.set_stack_policy(StackName=stack, StackPolicyBody=allow, StackPolicyURL="https://example.com/p.json")
    assert error_of(raised) == ("ValidationError", "You cannot specify both StackPolicyURL and StackPolicyBody")


def test_create_stack_keeps_its_policy(client) -> None:
    cf = client("cloudformation")
    name = f"cfn-policy-create-{uuid.uuid4().hex[:8]}"
    policy = _policy(ALLOW_ALL)
    stack_id = cf.create_stack(StackName=name, TemplateBody=TEMPLATE, StackPolicyBody=policy)["StackId"]
    settled(cf, name)
    assert cf.get_stack_policy(StackName=name)["StackPolicyBody"] == policy
    cf.delete_stack(StackName=name)
    settled(cf, stack_id)


def test_an_explicit_deny_fails_the_update_and_rolls_it_back(client, stack) -> None:
    cf = client("cloudformation")
    cf.set_stack_policy(
        StackName=stack, StackPolicyBody=_policy(ALLOW_ALL, _statement("Deny", "Update:*", "LogicalResourceId/Plain"))
    )

    cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_params(Stage="two"))

    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert _reasons(cf, stack, "Plain", "UPDATE_FAILED") == [
        "Action denied by stack policy: Statement [#2] does not allow [Update:Modify] for resource "
        "[LogicalResourceId/Plain]"
    ]
    assert _reasons(cf, stack, stack, "UPDATE_ROLLBACK_IN_PROGRESS") == [
        "The following resource(s) failed to update: [Plain]. "
    ]


def test_deny_replace_still_allows_modify_and_a_temporary_policy_overrides(client, stack) -> None:
    cf = client("cloudformation")
    cf.set_stack_policy(StackName=stack, StackPolicyBody=_policy(ALLOW_ALL, _statement("Deny", "Update:Replace")))

    cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_params(Stage="two"))  # tags: in place
    assert settled(cf, stack) == "UPDATE_COMPLETE"

    cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_params(Stage="two", Suffix="b"))
    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"  # a new BucketName replaces the bucket
    assert _reasons(cf, stack, "Named", "UPDATE_FAILED") == [
        "Action denied by stack policy: Statement [#2] does not allow [Update:Replace] for resource "
        "[LogicalResourceId/Named]"
    ]

    cf.update_stack(
        StackName=stack,
        TemplateBody=TEMPLATE,
        Parameters=_params(Stage="two", Suffix="b"),
        StackPolicyDuringUpdateBody=_policy(ALLOW_ALL),
    )
    assert settled(cf, stack) == "UPDATE_COMPLETE"


def test_without_an_allow_every_update_is_protected_and_deletes_too(client, stack) -> None:
    cf = client("cloudformation")
    cf.set_stack_policy(
        StackName=stack, StackPolicyBody=_policy(_statement("Deny", "Update:Delete", "LogicalResourceId/Plain"))
    )

    cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_params(Stage="two"))
    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert _reasons(cf, stack, "Named", "UPDATE_FAILED")[0].startswith("Action not allowed by stack policy")

    cf.set_stack_policy(
        StackName=stack,
        StackPolicyBody=_policy(ALLOW_ALL, _statement("Deny", "Update:Delete", "LogicalResourceId/Plain")),
    )
    cf.update_stack(StackName=stack, TemplateBody=WITHOUT_PLAIN)
    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert _reasons(cf, stack, "Plain", "UPDATE_FAILED") == [
        "Action denied by stack policy: Statement [#2] does not allow [Update:Delete] for resource "
        "[LogicalResourceId/Plain]"
    ]
    resources = cf.describe_stack_resources(StackName=stack)["StackResources"]
    assert {r["LogicalResourceId"] for r in resources} == {"Named", "Plain"}
