"""End-to-end verification: upload a marker object, then prove from CloudWatch Logs that the function ran on it.

The marker's key carries a fresh uuid, and only a log line containing that uuid counts, so a log group full of
unrelated lines (or an emulator's error text) can never pass. It also proves the version: the function's
CodeSha256 must be the zip this checkout built, and the marker's line must carry that zip's digest (the handler
logs ``artifact=<sha256>``). On failure, ``diagnose`` collects what a person would check next. The marker is
deleted afterwards, every version of it, unless asked to keep it.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from pipeline import cancel, cfn
from pipeline.errors import UserError
from pipeline.logs import filter_all
from pipeline.proof import Proof, judge, next_delay


class VerifyFailed(UserError):
    """Verify ran and the function did not prove itself: the one failure a rollback answers."""


class WrongVersion(VerifyFailed):
    """The function runs code other than the artifact this checkout built."""


REQUIRED_OUTPUTS = ("BucketName", "LogGroupName", "FunctionArn")
CLOCK_SKEW_MS = 5_000  # our clock and CloudWatch's may differ a little; the uuid filter keeps this safe


@dataclass(frozen=True)
class Marker:
    bucket: str
    key: str
    token: str
    uploaded_ms: int


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


def _events(logs, group: str, start_ms: int) -> list[dict[str, Any]]:
    try:
        return filter_all(logs, logGroupName=group, startTime=start_ms)
    except botocore.exceptions.ClientError as exc:
        # The group appears with the first invocation if the template doesn't own it; throttling: next poll.
        if cfn.error_code(exc) == "ResourceNotFoundException" or cfn.is_throttling(exc):
            return []
        raise


def wait_for_proof(
    logs,
    group: str,
    marker: Marker,
    timeout: float,
    expected_artifact: str | None = None,
    sleep=cancel.sleep,
    clock=time.monotonic,
) -> Proof:
    """Poll (0.1 s at first, growing to 1 s) until the marker's invocation succeeded, failed, or time ran out.

    One FilterLogEvents per poll reads every line since the upload, so an invocation that failed without
    logging the marker is seen as soon as its error line is.
    """
    deadline = clock() + timeout
    delay = 0.1
    while True:
        events = _events(logs, group, marker.uploaded_ms - CLOCK_SKEW_MS)
        proof = judge(events, marker.token, marker.uploaded_ms, expected_artifact)
        if proof.decided or clock() >= deadline:
            return proof
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = next_delay(delay)


def running_code(lambda_client, function_name: str) -> tuple[str, str | None]:
    """The function's CodeSha256 (base64) and the artifact digest its stack gave it (None if it has none)."""
    config = lambda_client.get_function_configuration(FunctionName=function_name)
    variables = (config.get("Environment") or {}).get("Variables") or {}
    return config["CodeSha256"], variables.get("ARTIFACT_SHA256")


def hex_of(code_sha256: str) -> str:
    """Lambda's base64 CodeSha256 as the hex digest the artifact keys use."""
    return base64.b64decode(code_sha256).hex()


def check_running(lambda_client, function_name: str, expected_sha256: str) -> None:
    """Refuse before uploading anything when the function runs other code than the expected artifact."""
    code_sha256, _ = running_code(lambda_client, function_name)
    if hex_of(code_sha256) != expected_sha256:
        raise WrongVersion(
            f"Verify failed: function {function_name} runs another version of the code than expected: running "
            f"{hex_of(code_sha256)}, expected {expected_sha256} (the sha256 of the zip built from lambda/). "
            "Another deploy may have replaced it, or this checkout was never deployed: run `invoke deploy` from "
            "the tree you mean to run, then verify again."
        )


def failure_reason(proof: Proof, marker: Marker, group: str, limit: float, expected: str) -> str:
    """Why verify failed, as one clause (a pure function of the proof)."""
    if proof.failure_lines and proof.failed_request_id:
        return (
            f"an invocation that started after {marker.key} was uploaded failed (request "
            f"{proof.failed_request_id}) and none logged the marker"
        )
    if proof.failure_lines:
        return f"the invocation that processed {marker.key} failed"
    if proof.wrong_artifact == "none":
        return (
            f"the line for {marker.key} carries no artifact digest, so it proves no version (expected "
            f"artifact={expected}; lambda/handler.py logs ARTIFACT_SHA256 on every line)"
        )
    if not proof.version_ok:
        return (
            f"the line for {marker.key} was logged by another version of the code: running {proof.wrong_artifact}, "
            f"expected {expected}"
        )
    if proof.match:
        return f"the function logged {marker.key} but its invocation did not finish within {limit:.0f} s"
    return f"no log line for {marker.key} appeared in {group} within {limit:.0f} s"


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
