"""Waiting for CloudFormation as the pipeline does: operations run asynchronously, as on AWS.

``settled`` follows the stack with the pipeline's own waiter (``pipeline.cfn.watch``: events streamed until the
status stops being ``*_IN_PROGRESS``), polling fast because the local cloud is quick. No fixed sleeps.
"""

from __future__ import annotations

import contextlib

from pipeline import cfn

FAST = {"initial": 0.02, "factor": 1.5, "ceiling": 0.25}

# Two tagged buckets, Second after First: the cancel and request-token tests update them one at a time.
TWO_BUCKETS = """
Parameters:
  Stage: {Type: String, Default: one}
Resources:
  First:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: stage, Value: !Ref Stage}]
  Second:
    Type: AWS::S3::Bucket
    DependsOn: First
    Properties:
      Tags: [{Key: stage, Value: !Ref Stage}]
"""


def settled(cf, stack: str) -> str:
    """The stack's status once it settles (DELETE_COMPLETE once a stack named by name is gone)."""
    return cfn.watch(cf, stack, cfn.EventStream(cf, stack), lambda event: None, cfn.Backoff(**FAST))


def change_set_settled(cf, stack: str | None, name: str) -> dict:
    """DescribeChangeSet once CloudFormation has computed the change set (CREATE_COMPLETE or FAILED).

    ``stack`` may be None when ``name`` is the change set's ARN.
    """
    backoff = cfn.Backoff(**FAST)
    named = {"StackName": stack} if stack else {}
    while True:
        described = cf.describe_change_set(ChangeSetName=name, **named)
        if described["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            return described
        backoff.wait()


def error_of(raised) -> tuple[str, str]:
    """(code, message) of the ClientError a ``pytest.raises`` caught."""
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def held():
    """The ``hold`` fixture (``hold = pytest.fixture(held)``): ``release = hold()`` keeps the local cloud's stack
    operations in progress (of ``types`` only, if given; change sets too, with ``change_sets=True``) until
    ``release.set()``, however loaded the machine; what is still held is released, and the pace is instant again,
    when the test ends."""
    from localcloud.cloudformation import latency

    with contextlib.ExitStack() as held_now:
        yield lambda change_sets=False, types=None: held_now.enter_context(latency.holding(change_sets, types))
