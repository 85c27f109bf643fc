"""Drift-aware change sets (CreateChangeSet DeploymentMode=REVERT_DRIFT) describe the drift they revert.

AWS facts used (botocore's CloudFormation service model, ResourceChange / ResourceTargetDefinition, each "only
present for drift-aware change sets"): ResourceDriftStatus IN_SYNC | MODIFIED | DELETED | UNSUPPORTED ("Resource
type does not support actual state comparison"); BeforeContext / AfterContext, "an encoded JSON string that
contains the context of the resource before [after] the change is executed", ``{"Properties": {...}}`` as in the
User Guide's change-set examples; a drifted property's Target has BeforeValue with BeforeValueFrom ACTUAL_STATE,
AfterValue with AfterValueFrom TEMPLATE, and Drift {PreviousValue, ActualValue, DriftDetectionTimestamp}.
"""

from __future__ import annotations

import json
import uuid

from stack_waits import change_set_settled, settled

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: one}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Ref Stage
"""


def test_a_drift_aware_change_set_names_the_drift_and_reverts_it(client) -> None:
    cf, sqs = client("cloudformation"), client("sqs")
    stack = f"cfn-revert-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=TEMPLATE)["StackId"]
    settled(cf, stack)
    queue_url = cf.describe_stack_resource(StackName=stack, LogicalResourceId="Queue")["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "99"})  # out of band

    cf.create_change_set(
        StackName=stack,
        ChangeSetName="revert",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": "two"}],
        DeploymentMode="REVERT_DRIFT",
    )
    described = change_set_settled(cf, stack, "revert")

    by_id = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]}
    queue, setting = by_id["Queue"], by_id["Setting"]
    assert (queue["Action"], queue["ResourceDriftStatus"]) == ("Modify", "MODIFIED")
    assert json.loads(queue["BeforeContext"])["Properties"]["VisibilityTimeout"] in (99, "99")
    assert json.loads(queue["AfterContext"]) == {"Properties": {"VisibilityTimeout": 30}}
    [target] = [d["Target"] for d in queue["Details"]]
    assert (target["Name"], target["BeforeValue"], target["AfterValue"]) == ("VisibilityTimeout", "99", "30")
    assert (target["BeforeValueFrom"], target["AfterValueFrom"]) == ("ACTUAL_STATE", "TEMPLATE")
    assert (target["Drift"]["PreviousValue"], target["Drift"]["ActualValue"]) == ("30", "99")
    assert (setting["Action"], setting["ResourceDriftStatus"]) == ("Modify", "UNSUPPORTED")
    assert "BeforeContext" not in setting

    cf.execute_change_set(StackName=stack, ChangeSetName="revert")
    assert settled(cf, stack) == "UPDATE_COMPLETE"
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    cf.delete_stack(StackName=stack)
    settled(cf, stack_id)
