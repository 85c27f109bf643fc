"""Small helpers for the pipeline tests (kept in a module so tests can import them)."""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CallCount:
    count: int = 0


@contextlib.contextmanager
def count_calls(client, operation: str) -> Iterator[CallCount]:
    """Count the calls a boto3 client makes to one operation, through botocore's own event hooks."""
    counter = CallCount()
    service = client.meta.service_model.service_name

    def seen(**_kwargs):
        counter.count += 1

    event = f"before-call.{service}.{operation}"
    client.meta.events.register(event, seen)
    try:
        yield counter
    finally:
        client.meta.events.unregister(event, seen)


BROKEN_RESOURCE = """
  Broken:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: handler.handler
      Role: !GetAtt FunctionRole.Arn
      Code:
        S3Bucket: !Ref ArtifactBucket
        S3Key: artifacts/missing/0000000000000000000000000000000000000000000000000000000000000000.zip
"""


def broken_template(settings, directory: Path) -> Path:
    """The app template plus a function whose code does not exist: CloudFormation fails it, as AWS would."""
    path = directory / "broken.yaml"
    path.write_text(settings.template.read_text().replace("\nResources:\n", "\nResources:" + BROKEN_RESOURCE, 1))
    return path


def read_terminal(fd: int, quiet: float = 0.3) -> str:
    """Everything written to a pseudo-terminal so far (until it stays quiet for ``quiet`` seconds)."""
    chunks = []
    while select.select([fd], [], [], quiet)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the writing end closed
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode()


def delete_stack_and_wait(cloudformation, stack_name: str) -> None:
    """DeleteStack, then wait as the pipeline does until it is gone (CloudFormation deletes asynchronously)."""
    from pipeline import cfn

    stack = cfn.describe_stack(cloudformation, stack_name)
    if stack is None:
        return
    cloudformation.delete_stack(StackName=stack_name)
    stream = cfn.EventStream(cloudformation, stack["StackId"])
    cfn.watch(cloudformation, stack["StackId"], stream, lambda event: None, cfn.Backoff(0.02, ceiling=0.25))
