"""Drift: what changed in the environment behind git's back, found with CloudFormation's own drift detection.

``detect`` starts a detection on the stack, polls it (0.1 s growing to 2 s), then reads every resource that is
MODIFIED or DELETED with its property differences. Rendering and the exit decision are pure functions, so the
tests feed them recorded answers. Reconciling is a deploy of git's state with a drift-aware change set
(``DeploymentMode=REVERT_DRIFT``), which the caller verifies and re-checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import UserError

DRIFTED_STATUSES = ["MODIFIED", "DELETED"]


class DriftFound(UserError):
    """The stack differs from its template: the job fails, and the message says how to reconcile."""

    exit_code = 2


@dataclass(frozen=True)
class Difference:
    path: str
    expected: str
    actual: str
    kind: str  # ADD | REMOVE | NOT_EQUAL


@dataclass(frozen=True)
class DriftedResource:
    logical_id: str
    resource_type: str
    status: str  # MODIFIED | DELETED
    differences: tuple[Difference, ...] = ()


@dataclass
class Detection:
    stack_status: str  # DRIFTED | IN_SYNC | NOT_CHECKED | UNKNOWN
    resources: list[DriftedResource] = field(default_factory=list)
    reason: str = ""  # DetectionStatusReason, e.g. resources whose type drift detection does not support

    @property
    def drifted(self) -> bool:
        return bool(self.resources) or self.stack_status == "DRIFTED"


def _wait(cfn, detection_id: str, timeout: float, sleep=time.sleep, clock=time.monotonic) -> dict[str, Any]:
    deadline, delay = clock() + timeout, 0.1
    while True:
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            return status
        if clock() >= deadline:
            raise UserError(
                f"Drift detection {detection_id} did not finish within {timeout:.0f} s. CloudFormation carries on; "
                "run `invoke drift` again later."
            )
        sleep(delay)
        delay = min(2.0, delay * 1.5)


def _resources(cfn, stack_name: str) -> list[DriftedResource]:
    found, token = [], None
    while True:
        kwargs = {"StackName": stack_name, "StackResourceDriftStatusFilters": DRIFTED_STATUSES}
        page = cfn.describe_stack_resource_drifts(**kwargs, **({"NextToken": token} if token else {}))
        for drift in page.get("StackResourceDrifts", []):
            differences = tuple(
                Difference(d["PropertyPath"], d.get("ExpectedValue", ""), d.get("ActualValue", ""), d["DifferenceType"])
                for d in drift.get("PropertyDifferences", [])
            )
            status = drift["StackResourceDriftStatus"]
            found.append(DriftedResource(drift["LogicalResourceId"], drift["ResourceType"], status, differences))
        token = page.get("NextToken")
        if not token:
            return sorted(found, key=lambda r: r.logical_id)


def detect(cfn, stack_name: str, timeout: float = 300, sleep=time.sleep, clock=time.monotonic) -> Detection:
    detection_id = cfn.detect_stack_drift(StackName=stack_name)["StackDriftDetectionId"]
    status = _wait(cfn, detection_id, timeout, sleep, clock)
    # DETECTION_FAILED still reports the resources it could check; the reason names the ones it could not.
    reason = status.get("DetectionStatusReason", "") if status["DetectionStatus"] == "DETECTION_FAILED" else ""
    return Detection(status.get("StackDriftStatus", "UNKNOWN"), _resources(cfn, stack_name), reason)


def rows(detection: Detection) -> list[tuple[str, str, str, str, str]]:
    """(resource, status, property, expected, actual) per difference; a deleted resource has one row."""
    found = []
    for resource in detection.resources:
        name = f"{resource.logical_id} ({resource.resource_type})"
        if not resource.differences:
            found.append((name, resource.status, "-", "exists", "deleted" if resource.status == "DELETED" else "?"))
        for diff in resource.differences:
            found.append((name, resource.status, diff.path, _short(diff.expected), _short(diff.actual)))
    return found


def _short(value: str, limit: int = 80) -> str:
    value = " ".join(str(value).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def summary(stack_name: str, detection: Detection) -> str:
    if not detection.drifted:
        return f"Stack {stack_name}: no drift ({detection.stack_status}); every checked resource matches git."
    count = len(detection.resources)
    return f"Stack {stack_name} has drifted: {count} resource{'s differ' if count != 1 else ' differs'} from git."


def failure(stack_name: str, detection: Detection) -> DriftFound:
    names = ", ".join(r.logical_id for r in detection.resources) or "the stack"
    return DriftFound(
        f"Stack {stack_name} has drifted from git: {names} changed outside the pipeline (the table above shows "
        "each property, the value git expects and the value found). Put git's state back with `invoke drift "
        "--reconcile` (same --target and --environment), or make the change in git and deploy it."
    )
