"""The change-set API details tools rely on: UsePreviousValue with template defaults, and ListChangeSets per stack.

`aws cloudformation deploy` sends every parameter it isn't given as UsePreviousValue, and AWS resolves it from the
stack's parameters, which list defaults too. A deploy tool checks ListChangeSets for what it left behind.
"""

from __future__ import annotations

from stack_waits import change_set_settled, settled

TEMPLATE = """
Parameters:
  Prefix:
    Type: String
    Default: dflt
  Name:
    Type: String
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${Prefix}-${Name}"
"""


def test_use_previous_value_of_a_defaulted_parameter(client):
    cfn = client("cloudformation")
    cfn.create_change_set(
        StackName="prev-values", ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Name", "ParameterValue": "one"}],
    )  # fmt: skip
    change_set_settled(cfn, "prev-values", "c1")
    cfn.execute_change_set(StackName="prev-values", ChangeSetName="c1")
    settled(cfn, "prev-values")
    parameters = [
        {"ParameterKey": "Name", "ParameterValue": "two"},
        {"ParameterKey": "Prefix", "UsePreviousValue": True},
    ]
    cfn.create_change_set(StackName="prev-values", ChangeSetName="c2", TemplateBody=TEMPLATE, Parameters=parameters)
    described = change_set_settled(cfn, "prev-values", "c2")
    assert described["Status"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]} == {
        "Prefix": "dflt",
        "Name": "two",
    }
    cfn.delete_stack(StackName="prev-values")
    settled(cfn, "prev-values")


def test_list_change_sets_shows_only_that_stacks_pending_ones(client):
    cfn = client("cloudformation")
    for stack in ("listed-a", "listed-b"):
        cfn.create_change_set(
            StackName=stack, ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=TEMPLATE,
            Parameters=[{"ParameterKey": "Name", "ParameterValue": stack}],
        )  # fmt: skip
    assert [c["StackName"] for c in cfn.list_change_sets(StackName="listed-a")["Summaries"]] == ["listed-a"]
    change_set_settled(cfn, "listed-a", "c1")
    cfn.execute_change_set(StackName="listed-a", ChangeSetName="c1")
    settled(cfn, "listed-a")
    assert cfn.list_change_sets(StackName="listed-a")["Summaries"] == []  # executed: CloudFormation removes them
    for stack in ("listed-a", "listed-b"):
        cfn.delete_stack(StackName=stack)
        settled(cfn, stack)
