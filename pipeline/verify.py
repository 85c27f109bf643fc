"""End-to-end verification: upload a marker object, then prove from CloudWatch Logs that the function ran on it.

The marker's key carries a fresh uuid, and only a log line containing that uuid counts, so a log group full of
unrelated lines (or an emulator's error text) can never pass. On failure, ``diagnose`` collects what a person
would check next. The marker is deleted afterwards, every version of it, unless asked to keep it.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from pipeline import cfn
from pipeline.errors import UserError
from pipeline.logs import filter_all

REQUIRED_OUTPUTS = ("BucketName", "LogGroupName", "FunctionArn")
CLOCK_SKEW_MS = 5_000  # our clock and CloudWatch's may differ a little; the uuid filter keeps this safe
REQUEST_ID = re.compile(r"RequestId:?\s*\"?([0-9a-f-]{36})", re.IGNORECASE)


@dataclass(frozen=True)
class Marker:
    bucket: str
    key: str
    token: str
    uploaded_ms: int


@dataclass(frozen=True)
class LogMatch:
    message: str
    request_id: str | None
    timestamp_ms: int
    stream: str


@dataclass
class Diagnosis:
    object_exists: bool
    notification_targets: list[str]
    notifies_function: bool
    last_lines: list[str]
    next_steps: list[str] = field(default_factory=list)


def stack_targets(cfn_client, stack_name: str, region: str) -> dict[str, str]:
    found = cfn.outputs(cfn.require_stack(cfn_client, stack_name, region))
    missing = [name for name in REQUIRED_OUTPUTS if name not in found]
    if missing:
        raise UserError(
            f"Stack {stack_name} has no output {', '.join(missing)}, so it was not deployed from this "
            "repository's cloudformation/app.yaml. Run `invoke deploy` to bring it up to date."
        )
    return found


def upload_marker(s3, bucket: str, now=time.time) -> Marker:
    token = str(uuid.uuid4())
    key = f"verify/{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now()))}-{token}.txt"
    uploaded_ms = int(now() * 1000)
    s3.put_object(Bucket=bucket, Key=key, Body=f"verification marker {token}\n".encode())
    return Marker(bucket, key, token, uploaded_ms)


def request_id_of(message: str) -> str | None:
    """The request id from a JSON log record (``requestId``) or a text line (``RequestId: …``)."""
    try:
        record = json.loads(message)
    except ValueError:
        record = None
    if isinstance(record, dict):
        found = record.get("requestId") or record.get("request_id") or record.get("aws_request_id")
        if found:
            return str(found)
    match = REQUEST_ID.search(message)
    return match.group(1) if match else None


# What an invocation's failure looks like in its log lines (JSON and text formats, handler and platform lines).
ERROR_MARKERS = (
    '"errorMessage"',
    '"level": "ERROR"',
    '"level":"ERROR"',
    "[ERROR]",
    "Task timed out",
    '"status":"error"',
    '"status":"failure"',
    '"status":"timeout"',
)


def is_error_line(message: str) -> bool:
    return any(marker in message for marker in ERROR_MARKERS)


def is_success_report(message: str, request_id: str) -> bool:
    """Lambda's end-of-invocation line for this request, saying it succeeded."""
    if message.startswith(f"REPORT RequestId: {request_id}"):
        return True
    return '"type":"platform.report"' in message and '"status":"success"' in message and request_id in message


@dataclass
class Proof:
    """What the logs showed: the handler's line, and whether its invocation finished successfully."""

    match: LogMatch | None = None
    finished: bool = False
    failure_lines: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.match is not None and self.finished and not self.failure_lines


def _events(logs, group: str, start_ms: int, term: str) -> list[dict[str, Any]]:
    try:
        events = filter_all(logs, logGroupName=group, startTime=start_ms, filterPattern=f'"{term}"')
    except botocore.exceptions.ClientError as exc:
        # The group appears with the first invocation if the template doesn't own it; throttling: next poll.
        if cfn.error_code(exc) == "ResourceNotFoundException" or cfn.is_throttling(exc):
            return []
        raise
    return sorted(events, key=lambda e: (e["timestamp"], e.get("eventId", "")))


def look(logs, group: str, marker: Marker, proof: Proof) -> Proof:
    """One poll: find the handler's line for the marker, then the end of that invocation."""
    start_ms = marker.uploaded_ms - CLOCK_SKEW_MS
    if proof.match is None:
        lines = _events(logs, group, start_ms, marker.token)
        errors = [e["message"].rstrip("\n") for e in lines if is_error_line(e["message"])]
        good = [e for e in lines if not is_error_line(e["message"])]
        if errors and not good:
            proof.failure_lines = errors  # the function saw the marker and failed on it
            return proof
        if not good:
            return proof
        first = good[0]
        message = first["message"].rstrip("\n")
        proof.match = LogMatch(message, request_id_of(message), first["timestamp"], first.get("logStreamName", ""))
    if proof.match.request_id is None:
        proof.finished = True  # a line without a request id can't be followed further; the line itself counts
        return proof
    for event in _events(logs, group, start_ms, proof.match.request_id):
        message = event["message"].rstrip("\n")
        if is_error_line(message):
            proof.failure_lines.append(message)
        elif is_success_report(message, proof.match.request_id):
            proof.finished = True
    return proof


def wait_for_proof(logs, group: str, marker: Marker, timeout: float, sleep=time.sleep, clock=time.monotonic) -> Proof:
    """Poll about once a second until the invocation that logged the marker succeeded, failed, or time ran out."""
    deadline = clock() + timeout
    proof = Proof()
    while True:
        proof = look(logs, group, marker, proof)
        if proof.succeeded or proof.failure_lines or clock() >= deadline:
            return proof
        sleep(min(1.0, max(0.0, deadline - clock())))


def _object_exists(s3, marker: Marker) -> bool:
    # ListObjectVersions, not HeadObject: without s3:ListBucket a missing key is a 403, not a 404, and the
    # deploy role may only list under verify/.
    try:
        page = s3.list_object_versions(Bucket=marker.bucket, Prefix=marker.key)
    except botocore.exceptions.ClientError:
        return False
    return any(v["Key"] == marker.key for v in page.get("Versions", []))


def _notification_targets(s3, bucket: str) -> list[str]:
    try:
        config = s3.get_bucket_notification_configuration(Bucket=bucket)
    except botocore.exceptions.ClientError:
        return []
    return [c["LambdaFunctionArn"] for c in config.get("LambdaFunctionConfigurations", [])]


def _last_lines(logs, group: str, since_ms: int, count: int = 20) -> list[str]:
    try:
        events = filter_all(logs, logGroupName=group, startTime=since_ms)
    except botocore.exceptions.ClientError:
        return []
    events.sort(key=lambda e: (e["timestamp"], e.get("eventId", "")))
    return [e["message"].rstrip("\n") for e in events[-count:]]


def diagnose(s3, logs, outputs: dict[str, str], marker: Marker) -> Diagnosis:
    exists = _object_exists(s3, marker)
    targets = _notification_targets(s3, marker.bucket)
    function_arn = outputs["FunctionArn"]
    notifies = any(t == function_arn or t.startswith(function_arn + ":") for t in targets)
    lines = _last_lines(logs, outputs["LogGroupName"], marker.uploaded_ms - 15 * 60 * 1000)
    found = Diagnosis(exists, targets, notifies, lines)
    found.next_steps = next_steps(found, outputs)
    return found


def next_steps(found: Diagnosis, outputs: dict[str, str]) -> list[str]:
    """What to check next, from what the diagnosis saw (a pure function)."""
    steps = []
    if not found.object_exists:
        steps.append("The marker object is not in the bucket: check that the caller may s3:PutObject under verify/.")
    if not found.notifies_function:
        steps.append(
            "The bucket has no notification to the function: run `invoke deploy` to restore the stack's "
            "NotificationConfiguration."
        )
    if any(word in line for line in found.last_lines for word in ("Traceback", "errorMessage", "ERROR", "[ERROR]")):
        steps.append("The function ran but failed: read the lines above, fix lambda/handler.py, then `invoke deploy`.")
    elif not found.last_lines:
        steps.append(
            "The log group has no recent lines: the function did not run. Check its resource policy lets "
            "s3.amazonaws.com invoke it, and its role may write to its log group."
        )
    steps.append(
        f"Events that failed every retry go to the failure queue: {outputs.get('FailureQueueUrl', 'n/a')} "
        "(`aws sqs receive-message --queue-url URL`)."
    )
    steps.append(
        "S3 usually delivers within seconds but sometimes takes a minute or more: retry with a longer --timeout."
    )
    return steps


def clean_up(s3, marker: Marker) -> int:
    """Delete every version and delete marker of the marker object; returns how many were deleted."""
    doomed = []
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=marker.bucket, Prefix=marker.key):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if item["Key"] == marker.key:
                doomed.append({"Key": item["Key"], "VersionId": item["VersionId"]})
    if doomed:
        s3.delete_objects(Bucket=marker.bucket, Delete={"Objects": doomed, "Quiet": True})
    return len(doomed)
