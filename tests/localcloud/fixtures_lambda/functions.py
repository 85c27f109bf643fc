"""Deploy handler zips straight through the Lambda API and read back what they logged."""

from __future__ import annotations

import io
import json
import os
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HANDLERS = Path(__file__).with_name("handlers.py")
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def handlers_zip() -> bytes:
    return zip_of({"app.py": HANDLERS.read_text()})


def role_arn(client: Callable[[str], Any]) -> str:
    iam = client("iam")
    name = "localcloud-lambda-tests"
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]


def create_function(
    client: Callable[[str], Any], handler: str, *, code: bytes | None = None, prefix: str = "fn", **extra: Any
) -> dict[str, Any]:
    """Create a uniquely named function running ``app.<handler>`` from handlers.py (or ``code``)."""
    spec = {
        "FunctionName": unique(prefix),
        "Runtime": "python3.11",
        "Role": role_arn(client),
        "Handler": f"app.{handler}",
        "Code": {"ZipFile": code if code is not None else handlers_zip()},
    }
    return client("lambda").create_function(**{**spec, **extra})


def invoke(client: Callable[[str], Any], name: str, event: Any = None, **extra: Any) -> dict[str, Any]:
    response = client("lambda").invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **extra)
    response["Body"] = response["Payload"].read()
    return response


def log_events(client: Callable[[str], Any], group: str) -> list[dict[str, Any]]:
    logs = client("logs")
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group)
        return [event for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def wait_for_logs(
    client: Callable[[str], Any], group: str, done: Callable[[list[str]], bool], timeout: float = 20.0
) -> list[str]:
    """Poll the group until ``done(messages)`` holds (async effects); return the messages either way."""
    deadline = time.monotonic() + timeout
    while True:
        messages = [event["message"] for event in log_events(client, group)]
        if done(messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.02)


def count(messages: list[str], prefix: str) -> int:
    return sum(1 for message in messages if message.startswith(prefix))


def allow_s3(client: Callable[[str], Any], function: str, bucket: str, account: str = "123456789012") -> None:
    """What a real user does before pointing a bucket's notifications at a function: let S3 invoke it."""
    client("lambda").add_permission(
        FunctionName=function,
        StatementId=f"s3-{bucket}",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=account,
    )


def group_of(name: str) -> str:
    return f"/aws/lambda/{name}"


def notified_bucket(client, function_arn: str, events: list[str] | None = None, rules=None) -> str:
    bucket = f"events-{os.urandom(6).hex()}"
    client("s3").create_bucket(Bucket=bucket)
    allow_s3(client, function_arn, bucket)
    config = {"Id": "to-lambda", "LambdaFunctionArn": function_arn, "Events": events or ["s3:ObjectCreated:*"]}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    client("s3").put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [config]}
    )
    return bucket
