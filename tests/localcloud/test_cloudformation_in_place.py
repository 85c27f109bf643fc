"""Replacement comes from the resource schemas' createOnlyProperties; every other change updates in place, for
every type moto models; actions the engine leaves to moto (stack sets) keep working.

AWS: AWS::SSM::Parameter's schema lists only Name as create-only, so changing Value updates the same parameter
("Update requires: No interruption" in the resource reference) and changing Name replaces it (a new parameter,
the old one deleted in cleanup). Before the engine, a Value change on a type outside an 11-type table replaced
the parameter and the stack ended UPDATE_ROLLBACK_COMPLETE.
"""

from __future__ import annotations

import json
import uuid

from stack_waits import change_set_settled, settled

PARAMETER = """
Parameters:
  Value: {Type: String}
  Name: {Type: String, Default: ""}
Conditions:
  Named: !Not [!Equals [!Ref Name, ""]]
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !If [Named, !Ref Name, !Ref AWS::NoValue]
      Type: String
      Value: !Ref Value
Outputs:
  Name: {Value: !Ref Setting}
"""


def _params(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _changes(cf, stack: str, name: str) -> list[tuple[str, str, str]]:
    described = change_set_settled(cf, stack, name)["Changes"]
    return [
        (c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["Replacement"])
        for c in described
    ]


def test_an_ssm_parameter_value_updates_in_place_and_a_new_name_replaces_it(client) -> None:
    cf, ssm = client("cloudformation"), client("ssm")
    stack = f"cfn-ssm-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, TemplateBody=PARAMETER, Parameters=_params(Value="one"))
    assert settled(cf, stack) == "CREATE_COMPLETE"
    name = cf.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"]

    cf.create_change_set(
        StackName=stack, ChangeSetName="value", TemplateBody=PARAMETER, Parameters=_params(Value="two")
    )
    assert _changes(cf, stack, "value") == [("Modify", "Setting", "False")]
    cf.execute_change_set(StackName=stack, ChangeSetName="value")
    assert settled(cf, stack) == "UPDATE_COMPLETE"
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "two"
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"] == name  # same parameter

    renamed = f"/{stack}/renamed"
    cf.update_stack(StackName=stack, TemplateBody=PARAMETER, Parameters=_params(Value="two", Name=renamed))
    assert settled(cf, stack) == "UPDATE_COMPLETE"
    assert ssm.get_parameter(Name=renamed)["Parameter"]["Value"] == "two"
    assert ssm.get_parameters(Names=[name])["InvalidParameters"] == [name]  # the old one is gone
    cf.delete_stack(StackName=stack)
    settled(cf, stack)


def test_stack_sets_are_left_to_moto_and_work(client) -> None:
    cf = client("cloudformation")
    name = f"cfn-set-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    created = cf.create_stack_set(StackSetName=name, TemplateBody=body)
    described = cf.describe_stack_set(StackSetName=name)["StackSet"]
    assert (described["StackSetId"], described["Status"]) == (created["StackSetId"], "ACTIVE")
    cf.delete_stack_set(StackSetName=name)
