"""The drift detection API: DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts and
DetectStackResourceDrift, over the engine's stacks and ``drift``'s comparison.

AWS behaviour (API reference): DetectStackDrift answers a StackDriftDetectionId at once and runs asynchronously
(DETECTION_IN_PROGRESS, then DETECTION_COMPLETE, or DETECTION_FAILED when a resource could not be checked);
LogicalResourceIds limits it to those resources; resources of types without drift support stay unchecked
(NOT_CHECKED in DescribeStackResources) and are not listed by DescribeStackResourceDrifts, which answers each
checked resource's latest drift, filtered by StackResourceDriftStatusFilters and paged by MaxResults/NextToken.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localcloud.cloudformation import drift, drift_readers, self_clients
from localcloud.cloudformation.errors import ValidationError


@dataclass
class _Detection:
    stack_id: str
    status: str = "DETECTION_IN_PROGRESS"
    started: datetime = field(default_factory=drift.utcnow)
    drifts: list[dict] = field(default_factory=list)
    reason: str | None = None


class Detections:
    """DetectStackDrift operations and their results; each detection runs on its own thread, as on AWS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, _Detection] = {}
        self._latest: dict[str, dict[str, dict]] = {}  # stack id -> logical id -> StackResourceDrift
        self._checked: dict[str, datetime] = {}

    def start(self, stack_id: str, resources: Iterable[drift.DeployedResource], clients: drift_readers.Clients) -> str:
        """Begin a detection of ``resources`` (already filtered to LogicalResourceIds); answers its id."""
        detection_id = str(uuid.uuid4())
        run = _Detection(stack_id)
        with self._lock:
            self._runs[detection_id] = run
        thread = threading.Thread(target=self._run, args=(run, list(resources), clients), daemon=True)
        thread.start()
        return detection_id

    def _run(self, run: _Detection, resources: list[drift.DeployedResource], clients) -> None:
        drifts = [found for found in (drift.check(run.stack_id, r, clients) for r in resources) if found is not None]
        failed = [found for found in drifts if found["StackResourceDriftStatus"] == "UNKNOWN"]
        with self._lock:
            run.drifts = drifts
            run.reason = f"Failed to detect drift on {len(failed)} resource(s)." if failed else None
            run.status = "DETECTION_FAILED" if failed else "DETECTION_COMPLETE"
            self._record(run.stack_id, drifts)

    def detect_one(
        self, stack_id: str, resource: drift.DeployedResource, clients: drift_readers.Clients
    ) -> dict | None:
        """DetectStackResourceDrift: checked at once, and remembered as the resource's latest drift."""
        found = drift.check(stack_id, resource, clients)
        if found is not None:
            with self._lock:
                self._latest.setdefault(stack_id, {})[resource.logical_id] = found
        return found

    def _record(self, stack_id: str, drifts: list[dict]) -> None:
        latest = self._latest.setdefault(stack_id, {})
        for found in drifts:
            latest[found["LogicalResourceId"]] = found
        self._checked[stack_id] = drift.utcnow()

    def status(self, detection_id: str) -> dict:
        """DescribeStackDriftDetectionStatus's answer; LookupError for an unknown id."""
        with self._lock:
            run = self._runs[detection_id]
            answer = {
                "StackId": run.stack_id,
                "StackDriftDetectionId": detection_id,
                "DetectionStatus": run.status,
                "Timestamp": run.started,
            }
            if run.status == "DETECTION_IN_PROGRESS":
                return answer
            drifted = [d for d in run.drifts if d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")]
            answer.update(StackDriftStatus=drift.stack_drift_status(run.drifts), DriftedStackResourceCount=len(drifted))
            if run.reason:
                answer["DetectionStatusReason"] = run.reason
            return answer

    def resource_drifts(self, stack_id: str, status_filters: Iterable[str] = ()) -> list[dict]:
        """DescribeStackResourceDrifts: each checked resource's latest drift, optionally by status."""
        wanted = set(status_filters)
        with self._lock:
            drifts = list(self._latest.get(stack_id, {}).values())
        return [found for found in drifts if not wanted or found["StackResourceDriftStatus"] in wanted]

    def stack_information(self, stack_id: str) -> dict:
        """DescribeStacks' DriftInformation: NOT_CHECKED until a detection has completed."""
        with self._lock:
            if stack_id not in self._checked:
                return {"StackDriftStatus": "NOT_CHECKED"}
            drifts = list(self._latest[stack_id].values())
            return {"StackDriftStatus": drift.stack_drift_status(drifts), "LastCheckTimestamp": self._checked[stack_id]}

    def resource_information(self, stack_id: str, logical_id: str) -> dict:
        """DescribeStackResource(s)' DriftInformation for one resource."""
        with self._lock:
            found = self._latest.get(stack_id, {}).get(logical_id)
        if found is None:
            return {"StackResourceDriftStatus": "NOT_CHECKED"}
        return {"StackResourceDriftStatus": found["StackResourceDriftStatus"], "LastCheckTimestamp": found["Timestamp"]}


_detections: dict[tuple[str, str], Detections] = {}
_detections_lock = threading.Lock()


def detections(account_id: str, region: str) -> Detections:
    """The drift detections of one account and region."""
    with _detections_lock:
        return _detections.setdefault((account_id, region), Detections())


def _deployed(stack: Any) -> list[drift.DeployedResource]:
    return [
        drift.DeployedResource(r.logical_id, r.resource_type, r.physical_id, r.properties)
        for r in stack.resources.values()
        if r.physical_id
    ]


def _clients(call: Any) -> drift_readers.Clients:
    return self_clients.factory(call.endpoint, call.region.region, call.region.account_id)


def _region_detections(call: Any) -> Detections:
    return detections(call.region.account_id, call.region.region)


def detect_stack_drift(call: Any) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    wanted = set(call.params.get("LogicalResourceIds") or [])
    resources = [r for r in _deployed(stack) if not wanted or r.logical_id in wanted]
    detection_id = _region_detections(call).start(stack.stack_id, resources, _clients(call))
    return {"StackDriftDetectionId": detection_id}


def describe_stack_drift_detection_status(call: Any) -> dict[str, Any]:
    detection_id = call.params["StackDriftDetectionId"]
    try:
        return _region_detections(call).status(detection_id)
    except KeyError:
        raise ValidationError(f"Drift detection [{detection_id}] does not exist") from None


def describe_stack_resource_drifts(call: Any) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    found = _region_detections(call).resource_drifts(
        stack.stack_id, call.params.get("StackResourceDriftStatusFilters") or ()
    )
    size = int(call.params.get("MaxResults") or 100)
    start = int(call.params.get("NextToken") or 0)
    page: dict[str, Any] = {"StackResourceDrifts": found[start : start + size]}
    if start + size < len(found):
        page["NextToken"] = str(start + size)
    return page


def detect_stack_resource_drift(call: Any) -> dict[str, Any]:
    stack = call.region.stack(call.params["StackName"])
    logical_id = call.params["LogicalResourceId"]
    resource = next((r for r in _deployed(stack) if r.logical_id == logical_id), None)
    if resource is None:
        raise ValidationError(f"Resource {logical_id} does not exist for stack {stack.name}")
    found = _region_detections(call).detect_one(stack.stack_id, resource, _clients(call))
    if found is None:
        raise ValidationError(f"Drift detection is not supported for resource type {resource.resource_type}")
    return {"StackResourceDrift": found}


ACTIONS = {
    "DetectStackDrift": detect_stack_drift,
    "DescribeStackDriftDetectionStatus": describe_stack_drift_detection_status,
    "DescribeStackResourceDrifts": describe_stack_resource_drifts,
    "DetectStackResourceDrift": detect_stack_resource_drift,
}


def stack_information(account_id: str, region: str, stack_id: str) -> dict[str, Any]:
    """DescribeStacks' / ListStacks' DriftInformation for one stack."""
    return detections(account_id, region).stack_information(stack_id)


def resource_information(account_id: str, region: str, stack_id: str, logical_id: str) -> dict[str, Any]:
    """DescribeStackResource(s)' / ListStackResources' DriftInformation for one resource."""
    return detections(account_id, region).resource_information(stack_id, logical_id)
