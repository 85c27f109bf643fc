"""Thin CloudFormation helpers shared by deploy, destroy, verify and bootstrap.

They return values or raise; none of them prints. Polling starts at four times a second and settles at once a
second (so a finished stack is noticed about half a second later, where awscli's waiter takes up to 30 s), has no
attempt ceiling (a big stack must not time out on our side, unlike botocore's waiters), and throttling only
slows it down.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from pipeline.errors import UserError

Sleep = Callable[[float], None]
THROTTLING = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}


def error_code(exc: botocore.exceptions.ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def error_message(exc: botocore.exceptions.ClientError) -> str:
    return exc.response.get("Error", {}).get("Message", "")


def is_throttling(exc: Exception) -> bool:
    return isinstance(exc, botocore.exceptions.ClientError) and error_code(exc) in THROTTLING


def is_missing_stack(exc: Exception) -> bool:
    return (
        isinstance(exc, botocore.exceptions.ClientError)
        and error_code(exc) == "ValidationError"
        and "does not exist" in error_message(exc)
    )


@dataclass
class Backoff:
    """0.25 s at first, growing to once a second; again 0.25 s after news; slower only while throttled.

    Measured by benchmarks/deploy_waiting.py: how long after CloudFormation finished the deploy noticed.
    """

    initial: float = 0.25
    factor: float = 1.5
    ceiling: float = 1.0
    sleep: Sleep = time.sleep
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.delay = self.initial

    def wait(self, throttled: bool = False) -> None:
        self.sleep(self.delay)
        grow = self.factor * (2 if throttled else 1)
        self.delay = min(self.delay * grow, self.ceiling * (4 if throttled else 1))

    def reset(self) -> None:
        self.delay = self.initial


def describe_stack(cfn, stack_name: str) -> dict[str, Any] | None:
    """The stack, or None when there is none by that name."""
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except botocore.exceptions.ClientError as exc:
        if is_missing_stack(exc):
            return None
        raise


def require_stack(cfn, stack_name: str, region: str) -> dict[str, Any]:
    stack = describe_stack(cfn, stack_name)
    if stack is None:
        raise UserError(
            f"Stack {stack_name} does not exist in {region}. Deploy it first with `invoke deploy` (same "
            "--target and --environment), or check the environment and region you meant."
        )
    return stack


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def is_settled(status: str) -> bool:
    # REVIEW_IN_PROGRESS is a stack waiting for its first change set to run; nobody else is working on it.
    return not status.endswith("_IN_PROGRESS") or status == "REVIEW_IN_PROGRESS"


class EventStream:
    """New stack events since a starting point, each once and oldest first (as SAM and rain print them)."""

    def __init__(self, cfn, stack_name: str) -> None:
        self.cfn = cfn
        self.stack_name = stack_name
        self.seen: set[str] = set()
        self.boundary: str | None = None

    def mark(self) -> None:
        """Start from now: everything already recorded is history."""
        newest = next(self._pages_newest_first(), [])
        self.boundary = newest[0]["EventId"] if newest else None

    def _pages_newest_first(self) -> Iterator[list[dict[str, Any]]]:
        token = None
        while True:
            kwargs = {"StackName": self.stack_name, **({"NextToken": token} if token else {})}
            page = self.cfn.describe_stack_events(**kwargs)
            yield page.get("StackEvents", [])
            token = page.get("NextToken")
            if not token:
                return

    def poll(self) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        try:
            for page in self._pages_newest_first():
                for event in page:
                    if event["EventId"] == self.boundary or event["EventId"] in self.seen:
                        return self._take(fresh)
                    fresh.append(event)
        except botocore.exceptions.ClientError as exc:
            if not is_missing_stack(exc):
                raise
        return self._take(fresh)

    def _take(self, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.seen.update(e["EventId"] for e in fresh)
        return list(reversed(fresh))


def watch(
    cfn,
    stack_name: str,
    stream: EventStream,
    on_event: Callable[[dict[str, Any]], None],
    backoff: Backoff,
    expect_new_events: bool = False,
    grace_polls: int = 30,
) -> str:
    """Stream events until the stack settles; returns the final status (DELETE_COMPLETE once it is gone).

    Right after ExecuteChangeSet or DeleteStack, DescribeStacks can still show the settled status from before.
    With ``expect_new_events``, a settled status only counts once an event of the new operation was seen (or
    after ``grace_polls`` polls without one, so a silent no-op can't hang us).
    """
    seen_any = False
    while True:
        throttled = False
        try:
            events = stream.poll()
            for event in events:
                on_event(event)
            stack = describe_stack(cfn, stack_name)
        except botocore.exceptions.ClientError as exc:
            if not is_throttling(exc):
                raise
            throttled, events, stack = True, [], {"StackStatus": "UNKNOWN_IN_PROGRESS"}
        status = "DELETE_COMPLETE" if stack is None else stack["StackStatus"]
        seen_any = seen_any or bool(events)
        waiting_for_start = expect_new_events and not seen_any and grace_polls > 0 and stack is not None
        if waiting_for_start:
            grace_polls -= 1
        elif is_settled(status):
            for event in stream.poll():
                on_event(event)
            return status
        if events:
            backoff.reset()
        backoff.wait(throttled)


def first_failure(events: list[dict[str, Any]], stack_name: str) -> dict[str, Any] | None:
    """The event that explains a failure: the oldest failed resource that isn't merely cancelled."""
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("_FAILED")]
    causes = [
        e
        for e in failed
        if e.get("LogicalResourceId") != stack_name and "cancelled" not in e.get("ResourceStatusReason", "")
    ]
    return (causes or failed or [None])[0]
