"""Stack operations are asynchronous, as on AWS: they return at once, show *_IN_PROGRESS while resources
progress, refuse a second operation on a busy stack, and make older change sets OBSOLETE.

AWS facts used (and where they come from):
- CreateStack/UpdateStack/ExecuteChangeSet/DeleteStack return once the operation starts; "Use the DescribeStacks
  action to view the status of the update" (ExecuteChangeSet API reference, in botocore's service model).
- A busy stack refuses updates with ValidationError "Stack:<arn> is in UPDATE_IN_PROGRESS state and can not be
  updated." (the answer deploy tools match on: ../shared/design/aws-facts.md, CloudFormation pre-deployment
  section) and DeleteStack with "Stack [<name>] cannot be deleted while in status UPDATE_IN_PROGRESS" (the text
  AWS users report, e.g. AWS re:Post "stack cannot be deleted while in status ...").
- "a change set might be ... in an OBSOLETE state because the stack was already updated" (DescribeChangeSet API
  reference, ExecutionStatus), and an OBSOLETE change set cannot be executed: InvalidChangeSetStatus
  "ChangeSet [<arn>] cannot be executed in its current execution status of [OBSOLETE]".
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError
from stack_waits import change_set_settled, error_of, held, settled

from localcloud.cloudformation import latency

hold = pytest.fixture(held)

BUCKET = """
Parameters:
  Stage: {Type: String, Default: one}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: stage, Value: !Ref Stage}]
Outputs:
  Name: {Value: !Ref Bucket}
"""


def _stage(value: str) -> list[dict[str, str]]:
    return [{"ParameterKey": "Stage", "ParameterValue": value}]


def test_create_returns_at_once_and_progress_is_visible(client, hold) -> None:
    cf = client("cloudformation")
    stack = f"cfn-async-{uuid.uuid4().hex[:8]}"
    release = hold()  # the bucket's creation waits until released

    stack_id = cf.create_stack(StackName=stack, TemplateBody=BUCKET)["StackId"]

    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    release.set()
    assert settled(cf, stack) == "CREATE_COMPLETE"
    events = reversed(cf.describe_stack_events(StackName=stack_id)["StackEvents"])
    assert [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events] == [
        (stack, "CREATE_IN_PROGRESS"),
        ("Bucket", "CREATE_IN_PROGRESS"),
        ("Bucket", "CREATE_IN_PROGRESS"),
        ("Bucket", "CREATE_COMPLETE"),
        (stack, "CREATE_COMPLETE"),
    ]
    cf.delete_stack(StackName=stack)
    settled(cf, stack_id)


def test_a_busy_stack_refuses_updates_change_sets_and_deletes(client, hold) -> None:
    cf = client("cloudformation")
    stack = f"cfn-busy-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=BUCKET)["StackId"]
    settled(cf, stack)
    cf.create_change_set(StackName=stack, ChangeSetName="pending", TemplateBody=BUCKET, Parameters=_stage("two"))
    change_set_settled(cf, stack, "pending")
    release = hold()  # the bucket's update waits until released

    cf.update_stack(StackName=stack, TemplateBody=BUCKET, Parameters=_stage("three"))

    busy = ("ValidationError", f"Stack:{stack_id} is in UPDATE_IN_PROGRESS state and can not be updated.")
    with pytest.raises(ClientError) as raised:
        cf.update_stack(StackName=stack, TemplateBody=BUCKET, Parameters=_stage("four"))
    assert error_of(raised) == busy
    with pytest.raises(ClientError) as raised:
        cf.execute_change_set(StackName=stack, ChangeSetName="pending")
    assert error_of(raised) == busy
    with pytest.raises(ClientError) as raised:
        cf.create_change_set(StackName=stack, ChangeSetName="later", TemplateBody=BUCKET)
    assert error_of(raised) == busy
    with pytest.raises(ClientError) as raised:
        cf.delete_stack(StackName=stack)
    assert error_of(raised) == (
        "ValidationError",
        f"Stack [{stack}] cannot be deleted while in status UPDATE_IN_PROGRESS",
    )

    release.set()
    assert settled(cf, stack) == "UPDATE_COMPLETE"
    parameters = cf.describe_stacks(StackName=stack)["Stacks"][0]["Parameters"]
    assert parameters == [{"ParameterKey": "Stage", "ParameterValue": "three"}]  # only the first update ran
    pending = cf.describe_change_set(StackName=stack, ChangeSetName="pending")
    assert pending["ExecutionStatus"] == "OBSOLETE"  # the stack was updated after it was made
    cf.delete_stack(StackName=stack)
    assert settled(cf, stack_id) == "DELETE_COMPLETE"


def test_executing_a_change_set_makes_the_others_obsolete(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-obsolete-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=BUCKET)["StackId"]
    settled(cf, stack)
    first = cf.create_change_set(StackName=stack, ChangeSetName="first", TemplateBody=BUCKET, Parameters=_stage("a"))
    cf.create_change_set(StackName=stack, ChangeSetName="second", TemplateBody=BUCKET, Parameters=_stage("b"))
    change_set_settled(cf, stack, "first"), change_set_settled(cf, stack, "second")

    cf.execute_change_set(StackName=stack, ChangeSetName="second")
    assert settled(cf, stack) == "UPDATE_COMPLETE"

    assert cf.describe_change_set(ChangeSetName=first["Id"])["ExecutionStatus"] == "OBSOLETE"
    with pytest.raises(ClientError) as raised:
        cf.execute_change_set(ChangeSetName=first["Id"])
    assert error_of(raised) == (
        "InvalidChangeSetStatus",
        f"ChangeSet [{first['Id']}] cannot be executed in its current execution status of [OBSOLETE]",
    )
    assert cf.list_change_sets(StackName=stack)["Summaries"] == []  # executed and obsolete ones are gone
    cf.delete_stack(StackName=stack)
    settled(cf, stack_id)


def test_the_aws_profile_paces_each_type_and_scales() -> None:
    paced = latency.parse("aws*0.01")
    assert paced.duration("AWS::SQS::Queue", "update") == pytest.approx(0.6)  # SetQueueAttributes: up to 60 s
    assert latency.parse("aws", 0.5).duration("AWS::SQS::Queue", "create") == pytest.approx(0.5)
    assert latency.parse(None).duration("AWS::SQS::Queue", "update") == 0  # the default stays instant
    assert paced.s3_event_delivery == pytest.approx(0.01)
    with pytest.raises(ValueError, match="Unknown latency profile 'slow'"):
        latency.parse("slow")


def test_a_held_step_waits_for_its_release_or_its_cancel() -> None:
    with latency.holding() as release:
        held = latency.current()
        cancelled = threading.Event()
        cancelled.set()
        assert held.pause("AWS::S3::Bucket", "update", 0.5, cancelled) is True  # a cancel ends the wait
        waiting = threading.Thread(target=held.pause, args=("AWS::S3::Bucket", "update", 0.5, threading.Event()))
        waiting.start()
        waiting.join(0.1)
        assert waiting.is_alive()  # still held
        release.set()
        waiting.join(60)
        assert not waiting.is_alive()
    assert latency.current() == latency.INSTANT  # the pace before the block is back


def _final_event_time(cf, stack_id: str) -> float:
    """When the stack's last operation ended: the newest of the stack's own events (DescribeStackEvents is
    newest first)."""
    events = cf.describe_stack_events(StackName=stack_id)["StackEvents"]
    return next(e for e in events if e["PhysicalResourceId"] == stack_id)["Timestamp"].timestamp()


def test_each_stack_operation_answers_before_the_held_operation_ends(client, hold) -> None:
    """ExecuteChangeSet, CreateStack, UpdateStack and DeleteStack answer as soon as the operation has started
    (ExecuteChangeSet API reference: "use the DescribeStacks action to view the status of the update"); the
    stack's own final event comes after the answer, and DescribeStacks meanwhile shows ``*_IN_PROGRESS``.

    Each operation's resource steps are held until the answer has come and been checked, so an operation that
    answered only once done would not answer while held.
    """
    cf = client("cloudformation")
    stack = f"cfn-answers-{uuid.uuid4().hex[:8]}"
    calls = {
        "CreateStack": lambda: cf.create_stack(StackName=stack, TemplateBody=BUCKET)["StackId"],
        "UpdateStack": lambda: cf.update_stack(StackName=stack, TemplateBody=BUCKET, Parameters=_stage("two")),
        "ExecuteChangeSet": lambda: cf.execute_change_set(StackName=stack, ChangeSetName="three"),
        "DeleteStack": lambda: cf.delete_stack(StackName=stack),
    }
    expected = {
        "CreateStack": ("CREATE_IN_PROGRESS", "CREATE_COMPLETE"),
        "UpdateStack": ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"),
        "ExecuteChangeSet": ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"),
        "DeleteStack": ("DELETE_IN_PROGRESS", "DELETE_COMPLETE"),
    }
    stack_id = ""
    for action, call in calls.items():
        if action == "ExecuteChangeSet":
            cf.create_change_set(StackName=stack, ChangeSetName="three", TemplateBody=BUCKET, Parameters=_stage("3"))
            change_set_settled(cf, stack, "three")
        release = hold()
        answer = call()
        answered = time.time()
        stack_id = stack_id or answer
        assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == expected[action][0], action
        release.set()
        assert settled(cf, stack_id) == expected[action][1], action
        assert _final_event_time(cf, stack_id) > answered, f"{action} answered only after the operation ended"


def test_a_change_set_is_computed_after_create_change_set_answers(client, hold) -> None:
    """CreateChangeSet answers at once; the change set is CREATE_PENDING / CREATE_IN_PROGRESS (ExecutionStatus
    UNAVAILABLE, no changes yet, ExecuteChangeSet refused) until it is CREATE_COMPLETE and AVAILABLE, or FAILED.

    AWS: DescribeChangeSet API reference, Status "such as CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_COMPLETE, or
    FAILED" and ExecutionStatus "UNAVAILABLE state because CloudFormation is still creating it";
    InvalidChangeSetStatus "the change set status might be CREATE_IN_PROGRESS" (botocore's service model).
    The computation is held until the test has seen it in progress.
    """
    cf = client("cloudformation")
    stack = f"cfn-cs-async-{uuid.uuid4().hex[:8]}"
    release = hold(change_sets=True)
    made = cf.create_change_set(StackName=stack, ChangeSetName="cs", ChangeSetType="CREATE", TemplateBody=BUCKET)

    first = cf.describe_change_set(ChangeSetName=made["Id"])
    assert first["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS")
    assert (first["ExecutionStatus"], first["Changes"]) == ("UNAVAILABLE", [])
    with pytest.raises(ClientError) as raised:
        cf.execute_change_set(ChangeSetName=made["Id"])
    assert error_of(raised) == (
        "InvalidChangeSetStatus",
        f"ChangeSet [{made['Id']}] cannot be executed in its current execution status of [UNAVAILABLE]",
    )
    seen = [first["Status"]]
    while seen[-1] == "CREATE_PENDING":
        time.sleep(0.01)
        seen.append(cf.describe_change_set(ChangeSetName=made["Id"])["Status"])
    release.set()
    done = change_set_settled(cf, None, made["Id"])
    assert "CREATE_IN_PROGRESS" in seen and done["Status"] == "CREATE_COMPLETE"
    assert done["ExecutionStatus"] == "AVAILABLE"
    assert [c["ResourceChange"]["Action"] for c in done["Changes"]] == ["Add"]
    cf.delete_stack(StackName=stack)


def test_an_empty_change_set_fails_only_once_computed(client, hold) -> None:
    """A change set without changes is CREATE_IN_PROGRESS first and then FAILED with AWS's reason, "The submitted
    information didn't contain changes. Submit different information to create a change set." (the text deploy
    tools match on: ../shared/design/aws-facts.md; aws-cloudformation/rain's ``noChangeFoundMsg``)."""
    cf = client("cloudformation")
    stack = f"cfn-cs-empty-{uuid.uuid4().hex[:8]}"
    stack_id = cf.create_stack(StackName=stack, TemplateBody=BUCKET)["StackId"]
    settled(cf, stack)
    release = hold(change_sets=True)
    cf.create_change_set(StackName=stack, ChangeSetName="same", TemplateBody=BUCKET)

    assert cf.describe_change_set(StackName=stack, ChangeSetName="same")["Status"] in (
        "CREATE_PENDING",
        "CREATE_IN_PROGRESS",
    )
    release.set()
    described = change_set_settled(cf, stack, "same")
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"] == (
        "The submitted information didn't contain changes. Submit different information to create a change set."
    )
    cf.delete_stack(StackName=stack)
    settled(cf, stack_id)
