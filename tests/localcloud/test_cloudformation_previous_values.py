"""UsePreviousValue takes the deployed value, including one that came from the template's Default.

This is how `aws cloudformation deploy` updates a stack: every parameter it isn't given is sent as
UsePreviousValue, and AWS resolves it from the stack's parameters, which list defaults too.
"""

from __future__ import annotations

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
    cfn.execute_change_set(StackName="prev-values", ChangeSetName="c1")
    parameters = [
        {"ParameterKey": "Name", "ParameterValue": "two"},
        {"ParameterKey": "Prefix", "UsePreviousValue": True},
    ]
    cfn.create_change_set(StackName="prev-values", ChangeSetName="c2", TemplateBody=TEMPLATE, Parameters=parameters)
    described = cfn.describe_change_set(StackName="prev-values", ChangeSetName="c2")
    assert described["Status"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]} == {
        "Prefix": "dflt",
        "Name": "two",
    }
    cfn.delete_stack(StackName="prev-values")
