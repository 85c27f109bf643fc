"""Tearing the app stack down: empty its buckets (every version and delete marker), delete it, wait."""

from __future__ import annotations

import time
from typing import Any

import botocore.exceptions

from pipeline import cfn
from pipeline.deploy import Progress
from pipeline.errors import StackFailed, UserError


def check_deletable(stack: dict[str, Any]) -> None:
    """Refuse before anything is emptied: a stack that can't be deleted must not lose its data first."""
    status = stack["StackStatus"]
    if status.endswith("_IN_PROGRESS") and status not in ("REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS"):
        raise UserError(
            f"Stack {stack['StackName']} is busy ({status}); nothing was deleted. Wait for it to finish (`aws "
            f"cloudformation describe-stack-events --stack-name {stack['StackName']}`), then `invoke destroy` again."
        )
    if stack.get("EnableTerminationProtection"):
        name = stack["StackName"]
        raise UserError(
            f"Stack {name} has termination protection on, so CloudFormation refuses to delete it. If you really "
            "mean to delete it, lift it first with `aws cloudformation update-termination-protection "
            f"--no-enable-termination-protection --stack-name {name}`, then run `invoke destroy` again."
        )


def stack_buckets(cfn_client, stack_name: str) -> list[str]:
    buckets = []
    for page in cfn_client.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
                buckets.append(resource["PhysicalResourceId"])
    return buckets


def empty_bucket(s3, bucket: str) -> int:
    """Delete every object version and delete marker; returns how many. A missing bucket counts as empty.

    Each round lists from the start again and deletes what it saw, until a listing comes back empty: the listing
    shrinks as it goes, so no version/key marker is needed (and a store whose markers misbehave is emptied too).
    """
    deleted = 0
    try:
        while True:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=1000)
            batch = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if not batch:
                return deleted
            for start in range(0, len(batch), 1000):  # DeleteObjects takes at most 1000 keys
                answer = s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": batch[start : start + 1000], "Quiet": True}
                )
                _refuse_errors(bucket, answer.get("Errors", []))
            deleted += len(batch)
    except botocore.exceptions.ClientError as exc:
        if cfn.error_code(exc) == "NoSuchBucket":
            return deleted
        raise


def _refuse_errors(bucket: str, errors: list[dict[str, Any]]) -> None:
    if errors:
        first = errors[0]
        raise UserError(
            f"Emptying bucket {bucket} failed for {len(errors)} object version(s), first {first.get('Key')}: "
            f"{first.get('Code')} {first.get('Message')}. Nothing else was deleted and the stack is untouched; fix "
            "the cause (permissions, object lock) and run `invoke destroy` again."
        )


def destroy(cfn_client, s3, stack_name: str, progress: Progress, sleep=time.sleep) -> str | None:
    """Delete the stack; returns the final status, or None when there was no stack."""
    stack = cfn.describe_stack(cfn_client, stack_name)
    if stack is None:
        return None
    check_deletable(stack)
    for bucket in stack_buckets(cfn_client, stack_name):
        count = empty_bucket(s3, bucket)
        progress.message(f"Emptied bucket {bucket} ({count} object versions and delete markers).")
    # Follow the stack by id: once deleted, its name no longer resolves but its id still does.
    stream = cfn.EventStream(cfn_client, stack["StackId"])
    stream.mark()
    events: list[dict[str, Any]] = []
    cfn_client.delete_stack(StackName=stack_name)
    status = cfn.watch(
        cfn_client,
        stack["StackId"],
        stream,
        lambda e: (events.append(e), progress.event(e)),
        cfn.Backoff(sleep=sleep),
        expect_new_events=True,
    )
    if status != "DELETE_COMPLETE":
        cause = cfn.first_failure(events, stack_name)
        reason = f"{cause['LogicalResourceId']}: {cause.get('ResourceStatusReason')}" if cause else status
        raise StackFailed(
            f"Deleting stack {stack_name} failed ({status}); first failure: {reason}. Fix that resource (or "
            f"retain it with `aws cloudformation delete-stack --stack-name {stack_name} --retain-resources "
            "LOGICAL_ID`) and run `invoke destroy` again."
        )
    return status
