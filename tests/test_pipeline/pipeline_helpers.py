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


def read_terminal(fd: int, stream) -> str:
    """Everything written to ``stream``, a pseudo-terminal, so far: read from ``fd``, its other end, until a
    window-title mark written after it arrives (the mark itself is left out)."""
    mark = b"\x1b]0;read-terminal-end\x07"
    stream.write(mark.decode())
    stream.flush()
    data = b""
    while not data.endswith(mark):
        if not select.select([fd], [], [], 60)[0]:
            raise AssertionError(f"the end mark never came; read so far: {data!r}")
        data += os.read(fd, 65536)
    return data[: -len(mark)].decode()


def delete_stack_and_wait(cloudformation, stack_name: str) -> None:
    """DeleteStack, then wait as the pipeline does until it is gone (CloudFormation deletes asynchronously)."""
    from pipeline import cfn

    stack = cfn.describe_stack(cloudformation, stack_name)
    if stack is None:
        return
    cloudformation.delete_stack(StackName=stack_name)
    stream = cfn.EventStream(cloudformation, stack["StackId"])
    cfn.watch(cloudformation, stack["StackId"], stream, lambda event: None, cfn.Backoff(0.02, ceiling=0.25))
