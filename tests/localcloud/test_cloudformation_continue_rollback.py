"""A rollback that fails leaves UPDATE_ROLLBACK_FAILED, and ContinueUpdateRollback resumes it, through boto3.

Sources:
- ContinueUpdateRollback API reference: a stack enters UPDATE_ROLLBACK_FAILED "when CloudFormation can't roll
  back all changes after a failed stack update", e.g. when it rolls back to a resource "deleted outside of
  CloudFormation"; the call continues the rollback to UPDATE_ROLLBACK_COMPLETE once the error is fixed;
  ResourcesToSkip names resources "in the UPDATE_FAILED state because a rollback failed", whose status
  CloudFormation "sets ... to UPDATE_COMPLETE" and leaves inconsistent with the template.
- User Guide "Continue rolling back an update": only a stack in UPDATE_ROLLBACK_FAILED can be continued.
- org-formation/org-formation-cli#455, AWS's answer to updating such a stack: "Stack:arn:aws:cloudformation:...
  is in UPDATE_ROLLBACK_FAILED state and can not be updated." (ValidationError).
- botocore's CloudFormation model: OperationType CONTINUE_ROLLBACK (DescribeStacks' LastOperations).
The wording of the refusals of ContinueUpdateRollback itself is not recorded anywhere we found: only the error
code is checked.
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError
from stack_waits import error_of, settled


def _template(visibility: int, name: str) -> str:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name, "VisibilityTimeout": visibility}}
    return json.dumps({"Resources": {"Jobs": queue}})


def _visibility(sqs, name: str) -> str:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"][
        "VisibilityTimeout"
    ]


def _rollback_failed(client) -> tuple[object, object, str, str]:
    """A stack whose queue was deleted outside CloudFormation, then updated: the update and its rollback fail."""
    cf, sqs = client("cloudformation"), client("sqs")
    stack, queue = f"cur-{uuid.uuid4().hex[:8]}", f"cur-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, TemplateBody=_template(45, queue))
    assert settled(cf, stack) == "CREATE_COMPLETE"
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    cf.update_stack(StackName=stack, TemplateBody=_template(60, queue))
    assert settled(cf, stack) == "UPDATE_ROLLBACK_FAILED"
    return cf, sqs, stack, queue


def _resource_status(cf, stack: str) -> str:
    return cf.describe_stack_resource(StackName=stack, LogicalResourceId="Jobs")["StackResourceDetail"][
        "ResourceStatus"
    ]


def test_a_rollback_to_a_resource_deleted_outside_cloudformation_fails(client) -> None:
    cf, _sqs, stack, _queue = _rollback_failed(client)
    statuses = [e["ResourceStatus"] for e in reversed(cf.describe_stack_events(StackName=stack)["StackEvents"])]
    after_update = statuses[statuses.index("UPDATE_ROLLBACK_IN_PROGRESS") :]
    assert after_update[0] == "UPDATE_ROLLBACK_IN_PROGRESS" and after_update[-1] == "UPDATE_ROLLBACK_FAILED"
    assert "UPDATE_FAILED" in after_update  # the queue's rollback
    assert _resource_status(cf, stack) == "UPDATE_FAILED"
    with pytest.raises(ClientError) as refused:
        cf.update_stack(StackName=stack, TemplateBody=_template(30, "other"))
    code, message = error_of(refused)
    assert code == "ValidationError"
    assert message.endswith("is in UPDATE_ROLLBACK_FAILED state and can not be updated.")


def test_continue_update_rollback_after_the_error_is_fixed(client) -> None:
    cf, sqs, stack, queue = _rollback_failed(client)
    sqs.create_queue(QueueName=queue)  # the fix: the queue is back (with SQS's default VisibilityTimeout, 30)

    cf.continue_update_rollback(StackName=stack)

    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert _visibility(sqs, queue) == "45"  # rolled back to the stack's previous template
    template = cf.get_template(StackName=stack)["TemplateBody"]  # boto3 parses a JSON body
    assert template["Resources"]["Jobs"]["Properties"]["VisibilityTimeout"] == 45
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["LastOperations"][0]["OperationType"] == "CONTINUE_ROLLBACK"
    statuses = [e["ResourceStatus"] for e in cf.describe_stack_events(StackName=stack)["StackEvents"]]
    assert statuses[:2] == ["UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"]
    cf.update_stack(StackName=stack, TemplateBody=_template(50, queue))  # updatable again
    assert settled(cf, stack) == "UPDATE_COMPLETE"


def test_continue_update_rollback_skipping_the_resource(client) -> None:
    cf, sqs, stack, queue = _rollback_failed(client)

    cf.continue_update_rollback(StackName=stack, ResourcesToSkip=["Jobs"])

    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"
    assert _resource_status(cf, stack) == "UPDATE_COMPLETE"
    with pytest.raises(ClientError):
        sqs.get_queue_url(QueueName=queue)  # skipped: still gone, out of step with the template


def test_continue_update_rollback_is_refused_outside_update_rollback_failed(client) -> None:
    cf = client("cloudformation")
    stack = f"cur-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, TemplateBody=_template(45, stack))
    assert settled(cf, stack) == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as refused:
        cf.continue_update_rollback(StackName=stack)
    assert error_of(refused)[0] == "ValidationError"
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_resources_to_skip_must_have_failed_their_rollback(client) -> None:
    cf, _sqs, stack, _queue = _rollback_failed(client)
    with pytest.raises(ClientError) as refused:
        cf.continue_update_rollback(StackName=stack, ResourcesToSkip=["NotThere"])
    assert error_of(refused)[0] == "ValidationError"
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
