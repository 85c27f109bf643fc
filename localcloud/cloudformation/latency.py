"""How long the local cloud takes: instantly (the default), or at AWS's typical pace (``latency="aws"``).

The ``aws`` profile gives each resource type the time CloudFormation typically spends on it, so that tools meet
``*_IN_PROGRESS`` stacks, busy-stack refusals and event streams as they do on AWS, and a benchmark can show how
long a tool waits after CloudFormation is done. A scale factor shortens everything for tests
(``latency="aws", latency_scale=0.01`` or the spec ``"aws*0.01"``).

Figures (seconds, create / update / delete) are in ``AWS_SECONDS``; the source of each is stated beside it.
S3 event delivery and CloudWatch Logs ingestion delays are read by other parts of the local cloud from
``current()``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# resource type -> (create, update, delete) seconds on AWS
AWS_SECONDS: dict[str, tuple[float, float, float]] = {
    "AWS::S3::Bucket": (21, 3, 1),
    "AWS::IAM::Role": (12, 4, 2),
    "AWS::IAM::ManagedPolicy": (8, 4, 2),
    "AWS::Lambda::Function": (6, 4, 2),
    "AWS::Lambda::Permission": (1, 1, 1),
    "AWS::Lambda::EventInvokeConfig": (1, 1, 1),
    "AWS::S3::BucketPolicy": (1, 1, 1),
    "AWS::SQS::QueuePolicy": (1, 1, 1),
    "AWS::SQS::Queue": (2, 60, 2),
    "AWS::Logs::LogGroup": (2, 1, 1),
    "AWS::SSM::Parameter": (2, 2, 1),
    "AWS::IAM::OIDCProvider": (2, 2, 1),
}
OTHER_TYPES = (5.0, 5.0, 3.0)
S3_EVENT_DELIVERY = 1.0
LOGS_INGESTION = 3.0
_ACTIONS = {"create": 0, "update": 1, "delete": 2}


@dataclass(frozen=True)
class Profile:
    name: str  # "instant" | "aws"
    scale: float = 1.0

    def duration(self, resource_type: str, action: str) -> float:
        if self.name == "instant":
            return 0.0
        return AWS_SECONDS.get(resource_type, OTHER_TYPES)[_ACTIONS[action]] * self.scale

    def pause(self, resource_type: str, action: str, share: float = 1.0) -> None:
        """Spend ``share`` of the resource's time (the executor splits it around the provider call)."""
        seconds = self.duration(resource_type, action) * share
        if seconds > 0:
            time.sleep(seconds)

    @property
    def s3_event_delivery(self) -> float:
        return 0.0 if self.name == "instant" else S3_EVENT_DELIVERY * self.scale

    @property
    def logs_ingestion(self) -> float:
        return 0.0 if self.name == "instant" else LOGS_INGESTION * self.scale


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


def current() -> Profile:
    with _lock:
        return _current[0]


def use(profile: Profile) -> None:
    with _lock:
        _current[0] = profile
