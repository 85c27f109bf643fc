"""Redrive: replay the events that failed every retry, from the failure queue, once the handler is fixed.

Each message is the OnFailure destination's invocation record; its ``requestPayload`` is the original S3 event.
The event is invoked again asynchronously (as S3 invokes), one message at a time, and its message is deleted
only after the logs prove the new invocation succeeded, the way verify proves a marker: a line naming each
object key, whose invocation ended with a success report. A message whose replay failed or could not be proven
is kept and made visible again at the end; an interrupted run puts every undeleted message back at once. So no
run loses a message; at worst one is replayed twice.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import botocore.exceptions

from pipeline import cfn
from pipeline.logs import filter_all
from pipeline.proof import START_SLACK_MS, judge, next_delay


@dataclass
class Counts:
    received: int = 0
    redriven: int = 0  # invoked, proven, deleted
    failed: int = 0  # invoked, not proven: kept
    skipped: int = 0  # not an invocation record, or no object key to prove it by: kept
    listed: list[str] = field(default_factory=list)  # --dry-run: what would be replayed

    def line(self) -> str:
        return (
            f"{self.received} received, {self.redriven} redriven and deleted, {self.failed} failed again (kept), "
            f"{self.skipped} skipped (kept)"
        )


def original_event(body: str) -> dict[str, Any] | None:
    """The original event from an OnFailure record's body, or None when the body is not such a record."""
    try:
        record = json.loads(body)
    except ValueError:
        return None
    payload = record.get("requestPayload") if isinstance(record, dict) else None
    return payload if isinstance(payload, dict) else None


def object_keys(event: dict[str, Any]) -> list[str]:
    """The decoded object keys of an S3 event (the handler logs each one)."""
    keys = []
    for record in event.get("Records") or []:
        key = ((record or {}).get("s3") or {}).get("object", {}).get("key") if isinstance(record, dict) else None
        if isinstance(key, str):
            keys.append(unquote_plus(key))
    return keys


# Long polling (ReceiveMessage WaitTimeSeconds > 0) asks all of SQS's servers, so an empty answer means an empty
# queue; short polling samples some and can answer empty while messages wait (SQS Developer Guide, "Amazon SQS
# short and long polling"). The last, empty receive of a run costs this wait.
RECEIVE_WAIT_SECONDS = 1


def proven(logs, group: str, keys: list[str], since_ms: int, timeout: float, sleep=time.sleep) -> bool:
    """True once every key has a line from an invocation that succeeded; False on a failure or the timeout."""
    deadline, delay = time.monotonic() + timeout, 0.1
    while True:
        try:
            events = filter_all(logs, logGroupName=group, startTime=since_ms - START_SLACK_MS)
        except botocore.exceptions.ClientError as exc:
            if not cfn.is_throttling(exc):
                raise
            events = []
        proofs = [judge(events, key, since_ms) for key in keys]
        if all(p.succeeded for p in proofs):
            return True
        if any(p.decided and not p.succeeded for p in proofs) or time.monotonic() >= deadline:
            return False
        sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = next_delay(delay)


@dataclass
class Redrive:
    """One run over the failure queue."""

    sqs: Any
    lambda_client: Any
    logs: Any
    queue_url: str
    function_arn: str
    group: str
    timeout: float
    say: Callable[[str], None] = print
    counts: Counts = field(default_factory=Counts)
    _held: dict[str, str] = field(default_factory=dict)  # message id -> receipt handle, received and not deleted

    def messages(self, limit: int | None) -> Iterator[dict[str, Any]]:
        """Messages one at a time, hidden long enough to replay and prove each, until the queue is empty."""
        while limit is None or self.counts.received < limit:
            want = 10 if limit is None else min(10, limit - self.counts.received)
            page = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=want,
                WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
                VisibilityTimeout=int(self.timeout) + 60,
            )
            batch = [m for m in page.get("Messages", []) if m["MessageId"] not in self._held]
            if not batch:
                return
            # Held from the moment they are received, so an interruption puts back the whole batch.
            self._held.update({m["MessageId"]: m["ReceiptHandle"] for m in batch})
            for message in batch:
                self.counts.received += 1
                yield message

    def run(self, limit: int | None = None, dry_run: bool = False) -> Counts:
        try:
            for message in self.messages(limit):
                self._one(message, dry_run)
        finally:
            self.release()  # interrupted or done: whatever was not deleted is visible again at once
        return self.counts

    def _one(self, message: dict[str, Any], dry_run: bool) -> None:
        event = original_event(message.get("Body", ""))
        keys = object_keys(event) if event else []
        if not keys:
            self.counts.skipped += 1
            self.say(f"  skipped message {message['MessageId']}: not a failed S3 invocation record (kept)")
            return
        if dry_run:
            self.counts.listed.extend(keys)
            self.say(f"  would redrive message {message['MessageId']}: {', '.join(keys)}")
            return
        started_ms = int(time.time() * 1000)
        self.lambda_client.invoke(FunctionName=self.function_arn, InvocationType="Event", Payload=json.dumps(event))
        if proven(self.logs, self.group, keys, started_ms, self.timeout):
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=self._held.pop(message["MessageId"]))
            self.counts.redriven += 1
            self.say(f"  redriven: {', '.join(keys)}")
        else:
            self.counts.failed += 1
            self.say(f"  failed again, kept: {', '.join(keys)}")

    def release(self) -> None:
        for message_id, handle in list(self._held.items()):
            # On failure it becomes visible when its visibility timeout ends anyway.
            with contextlib.suppress(botocore.exceptions.ClientError):
                self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
            del self._held[message_id]
