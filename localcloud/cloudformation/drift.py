"""Drift detection: the live configuration of a stack's resources against the properties its template set.

As the CloudFormation API reference says of DetectStackDrift: only properties explicitly defined in the template
(after parameters) are checked, write-only properties cannot be read back, and a resource type without drift
support stays unchecked. The comparison here is pure: ``differences`` takes the expected and the live properties
and answers PropertyDifferences (PropertyPath, ExpectedValue, ActualValue, DifferenceType ADD/REMOVE/NOT_EQUAL),
guided by the provider schema (``insertionOrder: false`` lists compare as sets; a structured object ignores
keys the template did not set, which the live side fills with defaults). ``drift_readers`` reads the live side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from localcloud.cloudformation import drift_readers, schemas

MISSING = "null"  # the value shown for the side of an ADD or a REMOVE that has none


@dataclass(frozen=True)
class DeployedResource:
    """One stack resource as the engine deployed it: ``properties`` are resolved (no intrinsic functions)."""

    logical_id: str
    resource_type: str
    physical_id: str | None
    properties: dict


def expected_properties(type_name: str, properties: dict) -> dict:
    """The template's properties minus the write-only ones (e.g. a function's Code/S3Key), which no read returns."""
    expected = json.loads(json.dumps(properties, default=str))
    for path in schemas.property_paths(type_name, "writeOnlyProperties"):
        _remove_path(expected, path.removeprefix("/properties/").split("/"))
    return {key: value for key, value in expected.items() if value not in (None, {}, [])}


def differences(type_name: str, expected: dict, actual: dict) -> list[dict]:
    """PropertyDifferences between expected and live properties, in the shape DescribeStackResourceDrifts gives."""
    root = schemas.schema(type_name) or {}
    found: list[dict] = []
    for key, value in expected.items():
        child = _child(root, root, key)
        if key not in actual or actual[key] is None:
            found.append(_difference(f"/{key}", value, None, "REMOVE"))
        else:
            _compare(root, child, value, actual[key], f"/{key}", found)
    return found


def resource_drift(stack_id: str, resource: DeployedResource, actual: dict | None, *, now: datetime) -> dict:
    """A StackResourceDrift: DELETED when ``actual`` is None, MODIFIED or IN_SYNC otherwise."""
    expected = expected_properties(resource.resource_type, resource.properties)
    drift = {
        "StackId": stack_id,
        "LogicalResourceId": resource.logical_id,
        "PhysicalResourceId": resource.physical_id,
        "ResourceType": resource.resource_type,
        "Timestamp": now,
    }
    if actual is None:
        return {**drift, "StackResourceDriftStatus": "DELETED", "PropertyDifferences": []}
    found = differences(resource.resource_type, expected, actual)
    shown = {key: actual[key] for key in expected if actual.get(key) is not None}
    return {
        **drift,
        "ExpectedProperties": json.dumps(expected, sort_keys=True),
        "ActualProperties": json.dumps(shown, sort_keys=True),
        "PropertyDifferences": found,
        "StackResourceDriftStatus": "MODIFIED" if found else "IN_SYNC",
    }


def unknown_drift(stack_id: str, resource: DeployedResource, reason: str, *, now: datetime) -> dict:
    """A StackResourceDrift for a resource whose live state could not be read."""
    return {
        "StackId": stack_id,
        "LogicalResourceId": resource.logical_id,
        "PhysicalResourceId": resource.physical_id,
        "ResourceType": resource.resource_type,
        "Timestamp": now,
        "StackResourceDriftStatus": "UNKNOWN",
        "DriftStatusReason": reason,
    }


def stack_drift_status(drifts: list[dict]) -> str:
    """DRIFTED when any checked resource is MODIFIED or DELETED, UNKNOWN when one could not be read, else IN_SYNC."""
    statuses = {drift["StackResourceDriftStatus"] for drift in drifts}
    if statuses & {"MODIFIED", "DELETED"}:
        return "DRIFTED"
    return "UNKNOWN" if "UNKNOWN" in statuses else "IN_SYNC"


def utcnow() -> datetime:
    return datetime.now(UTC)


def check(stack_id: str, resource: DeployedResource, clients: drift_readers.Clients) -> dict | None:
    """The StackResourceDrift of one resource, or None for a type drift detection does not support."""
    if resource.resource_type not in drift_readers.READERS or not resource.physical_id:
        return None
    readable, _ = drift_readers.READERS[resource.resource_type]
    checked = DeployedResource(
        resource.logical_id,
        resource.resource_type,
        resource.physical_id,
        {key: value for key, value in resource.properties.items() if key in readable},
    )
    try:
        actual = drift_readers.read(resource.resource_type, clients, resource.physical_id)
    except Exception as error:  # any failure to read is the resource's UNKNOWN, never the whole detection's
        return unknown_drift(stack_id, resource, f"Failed to read the resource: {error}", now=utcnow())
    return resource_drift(stack_id, checked, actual, now=utcnow())


def _compare(root: dict, schema: dict, expected, actual, path: str, found: list[dict]) -> None:
    schema = _resolve(root, schema)
    expected, actual = _same_form(expected, actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        _compare_objects(root, schema, expected, actual, path, found)
    elif isinstance(expected, list) and isinstance(actual, list):
        _compare_lists(root, schema, expected, actual, path, found)
    elif _scalar(expected) != _scalar(actual):
        found.append(_difference(path, expected, actual, "NOT_EQUAL"))


def _compare_objects(root, schema, expected: dict, actual: dict, path: str, found: list[dict]) -> None:
    for key, value in expected.items():
        if actual.get(key) is None:
            found.append(_difference(f"{path}/{key}", value, None, "REMOVE"))
        else:
            _compare(root, _child(root, schema, key), value, actual[key], f"{path}/{key}", found)
    if "properties" in schema:
        return  # a structured object: keys the template left out hold the service's defaults
    for key in actual.keys() - expected.keys():
        found.append(_difference(f"{path}/{key}", None, actual[key], "ADD"))


def _compare_lists(root, schema, expected: list, actual: list, path: str, found: list[dict]) -> None:
    items = schema.get("items", {})
    if schema.get("insertionOrder") is False:
        expected_left, actual_left = _unmatched(root, items, expected, actual)
    else:
        expected_left, actual_left = list(enumerate(expected)), list(enumerate(actual))
    for (index, want), (_, have) in zip(expected_left, actual_left, strict=False):
        _compare(root, items, want, have, f"{path}/{index}", found)
    for index, want in expected_left[len(actual_left) :]:
        found.append(_difference(f"{path}/{index}", want, None, "REMOVE"))
    for index, have in actual_left[len(expected_left) :]:
        found.append(_difference(f"{path}/{index}", None, have, "ADD"))


def _unmatched(root, items: dict, expected: list, actual: list) -> tuple[list, list]:
    """The (index, item) pairs of each side that have no equal item on the other side (lists as sets)."""
    actual_left = list(enumerate(actual))
    expected_left = []
    for index, want in enumerate(expected):
        match = next((pair for pair in actual_left if _equal(root, items, want, pair[1])), None)
        if match is None:
            expected_left.append((index, want))
        else:
            actual_left.remove(match)
    return expected_left, actual_left


def _equal(root, schema, expected, actual) -> bool:
    found: list[dict] = []
    _compare(root, schema, expected, actual, "", found)
    return not found


def _resolve(root: dict, schema: dict) -> dict:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        target = root
        for part in schema["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        schema = target
    return schema if isinstance(schema, dict) else {}


def _child(root: dict, schema: dict, key: str) -> dict:
    schema = _resolve(root, schema)
    known = schema.get("properties", {})
    if key in known:
        return known[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else {}


def _same_form(expected, actual):
    """JSON-typed properties (policy documents) may be a string on one side and an object on the other."""
    if isinstance(expected, str) and isinstance(actual, dict | list):
        return _loads(expected), actual
    if isinstance(actual, str) and isinstance(expected, dict | list):
        return expected, _loads(actual)
    return expected, actual


def _loads(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _scalar(value) -> str:
    """Scalars compare as CloudFormation passes them: "256" equals 256, "true" equals True."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _difference(path: str, expected, actual, kind: str) -> dict:
    return {
        "PropertyPath": path,
        "ExpectedValue": MISSING if expected is None else _scalar(expected),
        "ActualValue": MISSING if actual is None else _scalar(actual),
        "DifferenceType": kind,
    }


def _remove_path(value, parts: list[str]) -> None:
    if not parts or not isinstance(value, dict | list):
        return
    head, rest = parts[0], parts[1:]
    targets = value if head == "*" and isinstance(value, list) else [value]
    for target in targets:
        if head == "*" and isinstance(value, list):
            _remove_path(target, rest)
        elif isinstance(target, dict) and head in target:
            if rest:
                _remove_path(target[head], rest)
            else:
                del target[head]
