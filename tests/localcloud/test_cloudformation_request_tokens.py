"""ClientRequestToken and ClientToken through boto3: retried requests, events that carry the token, and change set
creation as an operation of its own.

Sources:
- API reference, ClientRequestToken of CreateStack, UpdateStack, DeleteStack, ExecuteChangeSet, CancelUpdateStack
  and ContinueUpdateRollback (botocore's CloudFormation model): "Specify this token if you plan to retry requests
  so that CloudFormation knows that you're not attempting to create a stack with the same name" (resp. update,
  delete, execute, cancel); "All events initiated by a given stack operation are assigned the same client request
  token" (StackEvent and OperationEvent both have ClientRequestToken). CreateChangeSet's ClientToken: "so that
  CloudFormation knows that you're not attempting to create another change set with the same name".
- DescribeEvents API reference: an operation is any action on a stack, "including ... change set creation";
  OperationType CREATE_CHANGESET (botocore's model, OperationEntry of DescribeStacks' LastOperations).
- LocalStack's recording test_changesets.snapshot.json::test_empty_changeset: executing a FAILED change set answers
  InvalidChangeSetStatus "ChangeSet [<arn>] cannot be executed in its current status of [FAILED]".
What a retry answers is not recorded anywhere we found; the tests check that it succeeds and starts nothing new.
"""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from stack_waits import TWO_BUCKETS as TEMPLATE
from stack_waits import change_set_settled, error_of, held, settled

hold = pytest.fixture(held)


def _stage(value: str) -> list[dict]:
    return [{"ParameterKey": "Stage", "ParameterValue": value}]


def _name() -> str:
    return f"tok-{uuid.uuid4().hex[:8]}"


def _operations(cf, stack: str) -> list[tuple[str, str]]:
    last = cf.describe_stacks(StackName=stack)["Stacks"][0]["LastOperations"]
    return [(entry["OperationType"], entry["OperationId"]) for entry in last]


def test_a_retried_create_stack_answers_the_same_stack_and_its_events_carry_the_token(client) -> None:
    cf, stack = client("cloudformation"), _name()
    first = cf.create_stack(StackName=stack, TemplateBody=TEMPLATE, ClientRequestToken="create-1")
    again = cf.create_stack(StackName=stack, TemplateBody=TEMPLATE, ClientRequestToken="create-1")
    assert (again["StackId"], again["OperationId"]) == (first["StackId"], first["OperationId"])
    assert settled(cf, stack) == "CREATE_COMPLETE"

    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    assert {event.get("ClientRequestToken") for event in events} == {"create-1"}
    operation_events = cf.describe_events(OperationId=first["OperationId"])["OperationEvents"]
    assert {event.get("ClientRequestToken") for event in operation_events} == {"create-1"}
    with pytest.raises(ClientError) as refused:
        cf.create_stack(StackName=stack, TemplateBody=TEMPLATE, ClientRequestToken="create-2")
    assert error_of(refused) == ("AlreadyExistsException", f"Stack [{stack}] already exists")


def test_a_retried_update_stack_starts_no_second_update(client) -> None:
    cf, stack = client("cloudformation"), _name()
    cf.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    settled(cf, stack)
    first = cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_stage("two"), ClientRequestToken="u1")
    again = cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_stage("two"), ClientRequestToken="u1")
    assert again["OperationId"] == first["OperationId"]
    assert settled(cf, stack) == "UPDATE_COMPLETE"
    assert (
        cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_stage("two"), ClientRequestToken="u1")[
            "OperationId"
        ]
        == first["OperationId"]
    )  # still the same request: not "No updates are to be performed."
    assert [kind for kind, _ in _operations(cf, stack)] == ["UPDATE_STACK"]
    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    assert [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == stack].count("UPDATE_IN_PROGRESS") == 1


def test_a_retried_cancel_update_stack_succeeds_once_the_update_is_cancelled(client, hold) -> None:
    cf, stack = client("cloudformation"), _name()
    cf.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    settled(cf, stack)
    release = hold()  # the update stays in progress until the cancel is in
    cf.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=_stage("two"))
    cf.cancel_update_stack(StackName=stack, ClientRequestToken="cancel-1")
    release.set()
    assert settled(cf, stack) == "UPDATE_ROLLBACK_COMPLETE"

    cf.cancel_update_stack(StackName=stack, ClientRequestToken="cancel-1")  # the retry: accepted, nothing to do
    with pytest.raises(ClientError) as refused:
        cf.cancel_update_stack(StackName=stack, ClientRequestToken="cancel-2")
    assert error_of(refused) == ("ValidationError", "CancelUpdateStack cannot be called from current stack status")


def test_change_set_creation_is_an_operation_and_retries_answer_the_same_change_set(client) -> None:
    cf, stack = client("cloudformation"), _name()
    made = cf.create_change_set(
        StackName=stack, ChangeSetName="cs", ChangeSetType="CREATE", TemplateBody=TEMPLATE, ClientToken="cs-1"
    )
    again = cf.create_change_set(
        StackName=stack, ChangeSetName="cs", ChangeSetType="CREATE", TemplateBody=TEMPLATE, ClientToken="cs-1"
    )
    assert again["Id"] == made["Id"]
    assert change_set_settled(cf, None, made["Id"])["Status"] == "CREATE_COMPLETE"
    [(kind, operation_id)] = _operations(cf, stack)
    assert kind == "CREATE_CHANGESET"
    assert cf.describe_events(OperationId=operation_id)["OperationEvents"] == []  # an operation, with no events

    cf.execute_change_set(ChangeSetName=made["Id"], ClientRequestToken="run-1")
    cf.execute_change_set(ChangeSetName=made["Id"], ClientRequestToken="run-1")  # the retry: accepted
    assert settled(cf, stack) == "CREATE_COMPLETE"
    assert [kind for kind, _ in _operations(cf, stack)] == ["CREATE_STACK"]
    with pytest.raises(ClientError) as refused:
        cf.execute_change_set(ChangeSetName=made["Id"], ClientRequestToken="run-2")
    assert error_of(refused)[0] == "InvalidChangeSetStatus"


def test_executing_a_failed_change_set_names_its_status(client) -> None:
    cf, stack = client("cloudformation"), _name()
    cf.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    settled(cf, stack)
    made = cf.create_change_set(StackName=stack, ChangeSetName="same", TemplateBody=TEMPLATE)
    assert change_set_settled(cf, None, made["Id"])["Status"] == "FAILED"  # nothing to change
    with pytest.raises(ClientError) as refused:
        cf.execute_change_set(ChangeSetName=made["Id"])
    assert error_of(refused) == (
        "InvalidChangeSetStatus",
        f"ChangeSet [{made['Id']}] cannot be executed in its current status of [FAILED]",
    )
