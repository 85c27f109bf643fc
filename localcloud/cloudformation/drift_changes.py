"""Drift-aware change sets (CreateChangeSet ``DeploymentMode=REVERT_DRIFT``): the change set compares the template
with the resources' actual state, so a resource changed out of band is modified back to the template's values
even when the template itself did not change.

AWS behaviour (botocore's CloudFormation service model, ResourceChange and ResourceTargetDefinition, "only present
for drift-aware change sets"):
- every ResourceChange of a deployed resource has ``ResourceDriftStatus``: IN_SYNC, MODIFIED, DELETED, or
  UNSUPPORTED when the "resource type does not support actual state comparison";
- ``BeforeContext`` / ``AfterContext`` are encoded JSON of the resource ``{"Properties": {...}}`` before the
  change (its actual state) and after it (the template's), as the User Guide's change-set examples show;
- a drifted property's Target has ``BeforeValue`` (actual) with ``BeforeValueFrom`` ACTUAL_STATE, ``AfterValue``
  with ``AfterValueFrom`` TEMPLATE, ``AttributeChangeType`` Modify and ``Drift`` {PreviousValue, ActualValue,
  DriftDetectionTimestamp}.
"""

from __future__ import annotations

import json
from typing import Any

from localcloud.cloudformation import changes
from localcloud.cloudformation.stacks import Stack

Results = dict[str, dict[str, Any] | None]  # logical id -> its StackResourceDrift (None: type not supported)


def check_all(endpoint: str, stack: Stack) -> Results:
    """Drift detection of each deployed resource, through the local cloud's own API."""
    from localcloud.cloudformation import drift, self_clients

    clients = self_clients.factory(endpoint, stack.region, stack.account_id)
    found: Results = {}
    for lid, resource in stack.resources.items():
        deployed = drift.DeployedResource(lid, resource.resource_type, resource.physical_id, resource.properties)
        found[lid] = drift.check(stack.stack_id, deployed, clients)
    return found


def _modified(result: dict[str, Any] | None) -> bool:
    return bool(result) and result.get("StackResourceDriftStatus") == "MODIFIED"  # type: ignore[union-attr]


def drifted_properties(results: Results) -> dict[str, list[str]]:
    """The top-level properties that drifted, per drifted resource (what the update sets back)."""
    found: dict[str, list[str]] = {}
    for lid, result in results.items():
        if _modified(result):
            paths = [d["PropertyPath"] for d in result.get("PropertyDifferences", [])]  # type: ignore[union-attr]
            found[lid] = sorted({path.split("/")[1] for path in paths if path.count("/") >= 1})
    return found


def _drift_details(result: dict[str, Any]) -> list[changes.Detail]:
    details = []
    for difference in result.get("PropertyDifferences", []):
        name = difference["PropertyPath"].split("/")[1]
        values = {
            "Path": f"/Properties{difference['PropertyPath']}",
            "BeforeValue": difference["ActualValue"],
            "AfterValue": difference["ExpectedValue"],
            "BeforeValueFrom": "ACTUAL_STATE",
            "AfterValueFrom": "TEMPLATE",
            "AttributeChangeType": "Modify",
            "Drift": {
                "PreviousValue": difference["ExpectedValue"],
                "ActualValue": difference["ActualValue"],
                "DriftDetectionTimestamp": result["Timestamp"],
            },
        }
        details.append(changes.Detail(name, "Never", "Static", "DirectModification", values=values))
    return details


def reverts(listed: list[changes.ResourceChange], results: Results, stack: Stack) -> list[changes.ResourceChange]:
    """A Modify for each drifted resource the template diff did not already list."""
    already = {change.logical_id for change in listed}
    return [
        changes.ResourceChange(
            "Modify",
            lid,
            stack.resources[lid].resource_type,
            stack.resources[lid].physical_id,
            replacement="False",
            details=_drift_details(result),  # type: ignore[arg-type]
        )
        for lid, result in results.items()
        if lid not in already and _modified(result)
    ]


def annotate(listed: list[changes.ResourceChange], results: Results, stack: Stack) -> None:
    """Each change of a deployed resource gets its drift status, and a drifted one its before/after contexts."""
    for change in listed:
        if change.logical_id not in results:
            continue  # an Add: nothing deployed to compare
        result = results[change.logical_id]
        change.drift_status = result["StackResourceDriftStatus"] if result else "UNSUPPORTED"
        if _modified(result):
            actual = json.loads(result["ActualProperties"])  # type: ignore[index]
            change.before_context = json.dumps({"Properties": actual}, separators=(",", ":"))
            after = stack.resources[change.logical_id].properties
            change.after_context = json.dumps({"Properties": after}, separators=(",", ":"), default=str)
