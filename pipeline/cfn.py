"""Thin CloudFormation helpers shared by deploy, destroy, verify and bootstrap.

They return values or raise; none of them prints. Polling starts 0.05 s apart and settles at twice a
second (so a finished stack is noticed about a quarter of a second later, where awscli's waiter takes up to
30 s), has no attempt ceiling (a big stack must not time out on our side, unlike botocore's waiters), and
throttling only slows it down. A stack is followed through its events, one call per poll: DescribeStacks is
asked when they say it has settled, so polling twice a second costs about what once a second did with both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from pipeline import cancel
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
    """0.05 s at first, growing to twice a second; back to 0.25 s at most after news; slower only while throttled.

    The local cloud finishes a change set or a stack in tens of milliseconds, AWS in seconds: the first quick
    polls cost AWS a few calls and save the local cloud a quarter of a second per wait. Measured by
    benchmarks/deploy_waiting.py (how long after CloudFormation finished the deploy noticed, and the calls).
    """

    initial: float = 0.05
    factor: float = 1.5
    ceiling: float = 0.5
    after_news: float = 0.25
    sleep: Sleep = cancel.sleep  # time.sleep, cut short when the work is abandoned (pipeline.cancel)
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.delay = self.initial

    def wait(self, throttled: bool = False) -> None:
        self.sleep(self.delay)
        grow = self.factor * (2 if throttled else 1)
        self.delay = min(self.delay * grow, self.ceiling * (4 if throttled else 1))

    def reset(self) -> None:
        self.delay = min(self.delay, self.after_news)


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


def is_own_event(event: dict[str, Any]) -> bool:
    """An event of the stack itself (its status changing), not of one of its resources or nested stacks.

    Not compared: PhysicalResourceId with StackId (the AWS CLI reference's example shows them differing). A
    nested stack whose logical id is the stack's name would only make the watch ask DescribeStacks early.
    """
    stack = event.get("ResourceType") == "AWS::CloudFormation::Stack"
    return stack and event.get("LogicalResourceId") == event.get("StackName")


@dataclass
class _Watch:
    """When a watch asks DescribeStacks: the events say when it is worth asking."""

    expect_new_events: bool
    grace_polls: int
    confirm_every: int
    polls: int = 0
    seen_any: bool = False
    settling: bool = False  # the stack's own event said it settled; DescribeStacks has not confirmed it yet

    def saw(self, events: list[dict[str, Any]]) -> None:
        self.polls += 1
        self.seen_any = self.seen_any or bool(events)
        own = [e for e in events if is_own_event(e)]
        if own:
            self.settling = is_settled(own[-1].get("ResourceStatus", ""))

    def ask_stack(self) -> bool:
        first = self.polls == 1 and not self.expect_new_events  # it may have settled before we looked
        silent = not self.seen_any and self.polls > self.grace_polls  # a no-op that makes no event at all
        return self.settling or first or silent or self.polls % self.confirm_every == 0

    def trusts(self, status: str) -> bool:
        """A settled status counts once the new operation showed an event (or the grace polls ran out)."""
        started = self.seen_any or not self.expect_new_events or self.polls > self.grace_polls
        return is_settled(status) and started


def watch(
    cfn,
    stack_name: str,
    stream: EventStream,
    on_event: Callable[[dict[str, Any]], None],
    backoff: Backoff,
    expect_new_events: bool = False,
    grace_polls: int = 30,
    confirm_every: int = 8,
) -> str:
    """Stream events until the stack settles; returns the final status (DELETE_COMPLETE once it is gone).

    See ``follow``, which also returns the settled stack.
    """
    return follow(cfn, stack_name, stream, on_event, backoff, expect_new_events, grace_polls, confirm_every)[0]


def follow(
    cfn,
    stack_name: str,
    stream: EventStream,
    on_event: Callable[[dict[str, Any]], None],
    backoff: Backoff,
    expect_new_events: bool = False,
    grace_polls: int = 30,
    confirm_every: int = 8,
) -> tuple[str, dict[str, Any] | None]:
    """Stream events until the stack settles; returns the final status and the stack (None once it is gone).

    A poll is one DescribeStackEvents call (more only for pages of new events). DescribeStacks is asked when the
    stack's own event says it settled (to confirm it), on the first poll, once ``grace_polls`` polls passed
    without any event (a silent no-op must not hang us), and every ``confirm_every`` polls in case an event is
    late. Right after ExecuteChangeSet or DeleteStack, DescribeStacks can still show the settled status from
    before: with ``expect_new_events``, a settled status only counts once an event of the new operation was
    seen (or after the grace polls).
    """
    state = _Watch(expect_new_events, grace_polls, confirm_every)
    while True:
        throttled, events = False, []
        try:
            events = stream.poll()
            for event in events:
                on_event(event)
            state.saw(events)
            if state.ask_stack():
                stack = describe_stack(cfn, stack_name)
                status = "DELETE_COMPLETE" if stack is None else stack["StackStatus"]
                if state.trusts(status) or stack is None:
                    if not state.settling:  # settled without its own final event shown yet: show the rest
                        for event in stream.poll():
                            on_event(event)
                    return status, stack
        except botocore.exceptions.ClientError as exc:
            if not is_throttling(exc):
                raise
            throttled = True
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
