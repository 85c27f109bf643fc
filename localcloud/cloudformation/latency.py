"""How long the local cloud takes: instantly (the default), or at AWS's typical pace (``latency="aws"``).

The ``aws`` profile gives each resource type the time CloudFormation typically spends on it, so that tools meet
``*_IN_PROGRESS`` stacks, busy-stack refusals and event streams as they do on AWS, and a benchmark can show how
long a tool waits after CloudFormation is done. A scale factor shortens everything for tests
(``latency="aws", latency_scale=0.01`` or the spec ``"aws*0.01"``).

Figures are seconds (create, update, delete). Where AWS documents a figure it is used and named; AWS publishes no
per-type CloudFormation durations, so the others are marked as this project's estimates of a typical run:
- AWS::SQS::Queue (1, 60, 60): CreateQueue API reference, "you must wait at least one second after the queue is
  created to be able to use the queue"; SetQueueAttributes, "the change can take up to 60 seconds for most of the
  attributes to propagate"; DeleteQueue, "the deletion process takes up to 60 seconds".
- AWS::Lambda::Function (5, 5, 2): estimate. Lambda documents that a new or updated function is Pending /
  LastUpdateStatus InProgress until "Lambda completes resource configuration and provisioning" ("Lambda function
  states"), which CloudFormation waits for; no duration is published.
- AWS::IAM::Role (10, 5, 5) and AWS::IAM::ManagedPolicy (5, 5, 5): estimate. IAM documents that its changes are
  eventually consistent (IAM User Guide, troubleshooting: changes are not always immediately visible), which
  CloudFormation's IAM handlers wait out; no duration is published.
- AWS::S3::Bucket (5, 2, 2), AWS::Logs::LogGroup, AWS::S3::BucketPolicy, AWS::SQS::QueuePolicy,
  AWS::Lambda::Permission, AWS::Lambda::EventInvokeConfig, AWS::SSM::Parameter, AWS::IAM::OIDCProvider
  (1-2 s each) and any other type (5, 5, 3): estimates, one API call plus CloudFormation's stabilization checks
  (AWS DevOps blog, "How we sped up AWS CloudFormation deployments with optimistic stabilization", 2024:
  CloudFormation waits for each resource to stabilize before it reports it complete).
- A change set 4 s (CREATE_PENDING/CREATE_IN_PROGRESS until CREATE_COMPLETE): estimate. AWS publishes no figure;
  the clients assume seconds: awscli's and SAM CLI's change-set waiters poll every 5 s, "assuming the changeset
  creation is quick" (aws/aws-sam-cli issue 4681), while botocore's waiter polls every 30 s.
- S3 event delivery 1 s: S3 User Guide, "Amazon S3 Event Notifications": "Typically, event notifications are
  delivered in seconds but can sometimes take a minute or longer."
- CloudWatch Logs ingestion 3 s: estimate; the CloudWatch Logs documentation gives no figure.
Other parts of the local cloud read the S3 and Logs delays from ``current()``.

A test that needs a stack to stay busy while it acts holds the operations instead (``holding()``): each resource step
(and, if asked, each change-set computation) waits until the test releases it, so the busy window lasts exactly
as long as the test needs, on a quiet machine or a loaded one, and costs nothing after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# resource type -> (create, update, delete) seconds on AWS
AWS_SECONDS: dict[str, tuple[float, float, float]] = {
    "AWS::SQS::Queue": (1, 60, 60),  # documented (SQS API reference)
    "AWS::Lambda::Function": (5, 5, 2),  # estimate
    "AWS::IAM::Role": (10, 5, 5),  # estimate
    "AWS::IAM::ManagedPolicy": (5, 5, 5),  # estimate
    "AWS::S3::Bucket": (5, 2, 2),  # estimate
    "AWS::Logs::LogGroup": (2, 1, 1),  # estimate
    "AWS::S3::BucketPolicy": (1, 1, 1),  # estimate
    "AWS::SQS::QueuePolicy": (1, 1, 1),  # estimate
    "AWS::Lambda::Permission": (1, 1, 1),  # estimate
    "AWS::Lambda::EventInvokeConfig": (1, 1, 1),  # estimate
    "AWS::SSM::Parameter": (2, 2, 1),  # estimate
    "AWS::IAM::OIDCProvider": (2, 2, 1),  # estimate
}
OTHER_TYPES = (5.0, 5.0, 3.0)  # estimate
CHANGE_SET = 4.0  # estimate
S3_EVENT_DELIVERY = 1.0  # documented: "typically ... in seconds"
LOGS_INGESTION = 3.0  # estimate
_ACTIONS = {"create": 0, "update": 1, "delete": 2}


HOLD_LIMIT = 60.0  # seconds a held step waits at most: a test that never releases fails, it does not hang


@dataclass(frozen=True)
class Profile:
    name: str  # "instant" | "aws" | "held"
    scale: float = 1.0
    gate: threading.Event | None = field(default=None, compare=False)  # held: set once the test releases
    hold_change_sets: bool = False  # held: change-set computations wait for the gate too
    held_types: frozenset[str] | None = None  # held: only these resource types wait (None: every type)

    def duration(self, resource_type: str, action: str) -> float:
        if self.name != "aws":
            return 0.0
        return AWS_SECONDS.get(resource_type, OTHER_TYPES)[_ACTIONS[action]] * self.scale

    def pause(self, resource_type: str, action: str, share: float = 1.0, stop: threading.Event | None = None) -> bool:
        """Spend ``share`` of the resource's time (the executor splits it around the provider call); returns
        True when ``stop`` was set before or during the pause (the operation was cancelled)."""
        if self.gate is not None and (self.held_types is None or resource_type in self.held_types):
            return self._held(stop)
        seconds = self.duration(resource_type, action) * share
        if stop is not None:
            return stop.wait(seconds) if seconds > 0 else stop.is_set()
        if seconds > 0:
            time.sleep(seconds)
        return False

    def pause_change_set(self) -> None:
        """Spend the time CloudFormation takes to compute a change set."""
        if self.gate is not None and self.hold_change_sets:
            self._held(None)
        elif self.name == "aws" and CHANGE_SET * self.scale > 0:
            time.sleep(CHANGE_SET * self.scale)

    def _held(self, stop: threading.Event | None) -> bool:
        """Wait for the test's release (or ``stop``: a cancel ends the wait); True when cancelled."""
        assert self.gate is not None
        deadline = time.monotonic() + HOLD_LIMIT
        while not self.gate.wait(0.01 if stop is not None else HOLD_LIMIT):
            if (stop is not None and stop.is_set()) or time.monotonic() >= deadline:
                break
        return stop is not None and stop.is_set()

    @property
    def s3_event_delivery(self) -> float:
        return S3_EVENT_DELIVERY * self.scale if self.name == "aws" else 0.0

    @property
    def logs_ingestion(self) -> float:
        return LOGS_INGESTION * self.scale if self.name == "aws" else 0.0


INSTANT = Profile("instant")
_current = [INSTANT]
_lock = threading.Lock()


def parse(spec: str | None, scale: float | None = None) -> Profile:
    """``None``/"instant" -> instant; "aws", "aws*0.01" (or "aws" with ``scale``) -> the AWS pace, scaled."""
    if not spec or spec == "instant":
        return INSTANT
    name, _, factor = spec.partition("*")
    if name != "aws":
        raise ValueError(f"Unknown latency profile {spec!r}: use 'instant', 'aws' or 'aws*<scale>' (e.g. aws*0.1).")
    try:
        value = float(factor) if factor else (1.0 if scale is None else float(scale))
    except ValueError as exc:
        raise ValueError(f"Latency scale in {spec!r} must be a number, e.g. aws*0.1.") from exc
    if value < 0:
        raise ValueError(f"Latency scale in {spec!r} must not be negative.")
    return Profile("aws", value)


@contextmanager
def holding(change_sets: bool = False, types: frozenset[str] | None = None) -> Iterator[threading.Event]:
    """Within the block every resource step (of ``types`` only, if given; and each change-set computation, with
    ``change_sets``) waits until the yielded event is set: set it to release them all (the pace is instant from
    then on). Leaving the block releases what is still held and puts the previous profile back."""
    gate, before = threading.Event(), current()
    use(Profile("held", gate=gate, hold_change_sets=change_sets, held_types=types))
    try:
        yield gate
    finally:
        gate.set()
        use(before)


def current() -> Profile:
    with _lock:
        return _current[0]


def use(profile: Profile) -> None:
    with _lock:
        _current[0] = profile
