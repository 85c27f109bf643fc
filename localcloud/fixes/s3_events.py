"""S3 notifies Lambda asynchronously, with S3's full event structure; moto 5.2.5 does neither.

AWS behaviour: PutObject, CopyObject and CompleteMultipartUpload return before the function runs; S3 hands the
event to Lambda as an asynchronous invoke (queued, retried, sent to an OnFailure destination). The event is
structure version 2.1: ``eventVersion``, ``eventSource``, ``awsRegion``, ``eventTime``, ``eventName``,
``userIdentity``, ``requestParameters``, ``responseElements`` and ``s3`` (``s3SchemaVersion``,
``configurationId``, bucket ``name``/``ownerIdentity``/``arn``, object ``key`` URL-encoded as S3 does it
(space -> ``+``), ``size``, ``eTag``, ``versionId`` on versioned buckets, and a ``sequencer`` that grows with
each event).

moto gap: ``moto.s3.notifications._invoke_awslambda`` invokes the function synchronously inside the S3 request
(through Docker), ``_get_s3_event`` leaves out userIdentity, requestParameters, responseElements,
ownerIdentity and sequencer, and ``S3Backend.complete_multipart_upload`` also sends an ``ObjectCreated:Put``
(and an ``ObjectTagging:Put``) for the object it assembles, which S3 does not. This fix replaces both module
functions (events are built in full; the SQS and SNS notifications get the same shape, as in AWS; Lambda
targets go to the runtime's async queue) and wraps ``notifications.send_event`` so that a multipart completion
notifies only ``ObjectCreated:CompleteMultipartUpload``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import random
import threading
import time
from typing import Any
from urllib.parse import quote_plus

from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.s3 import notifications
from moto.s3.models import S3Backend

from localcloud import pace, runtime
from localcloud.patches import install

log = logging.getLogger("localcloud")

_completing = threading.local()  # set while this thread runs complete_multipart_upload
_sequencer_lock = threading.Lock()
_last_sequencer = 0


def _next_sequencer() -> str:
    """Hex, growing with every event (S3 only promises order per key; growing globally satisfies that)."""
    global _last_sequencer
    with _sequencer_lock:
        _last_sequencer = max(_last_sequencer + 1, time.time_ns() // 1000)
        return f"{_last_sequencer:018X}"


@functools.cache
def _principal(account_id: str) -> str:
    return "A" + hashlib.sha256(account_id.encode()).hexdigest()[:13].upper()


def _object(event_name: str, bucket: Any, key: Any) -> dict[str, Any]:
    # S3 form-encodes the key (space -> "+", "=" -> "%3D") but leaves "/" as it is.
    obj: dict[str, Any] = {"key": quote_plus(key.name, safe="/")}
    if not event_name.startswith("ObjectRemoved"):  # S3 sends no size or eTag for removals
        obj["size"] = key.size
        obj["eTag"] = key.etag.replace('"', "")
    if getattr(bucket, "is_versioned", False) and getattr(key, "version_id", None):
        obj["versionId"] = key.version_id
    obj["sequencer"] = _next_sequencer()
    return obj


def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]:
    # moto passes an S3NotificationEvent (a str Enum): s3:ObjectCreated:Put -> ObjectCreated:Put
    name = getattr(event_name, "value", event_name).removeprefix("s3:")
    owner = {"principalId": _principal(bucket.account_id)}
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region_name,
        "eventTime": iso_8601_datetime_with_milliseconds(),
        "eventName": name,
        "userIdentity": {"principalId": f"AWS:{owner['principalId']}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        # Opaque ids; random.getrandbits avoids a system call per event (os.urandom) on the hot path.
        "responseElements": {
            "x-amz-request-id": f"{random.getrandbits(64):016X}",
            "x-amz-id-2": base64.b64encode(random.getrandbits(384).to_bytes(48, "big")).decode(),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": notification_id,
            "bucket": {"name": bucket.name, "ownerIdentity": owner, "arn": bucket.arn},
            "object": _object(name, bucket, key),
        },
    }
    return {"Records": [record]}


def invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    """Queue the event for the function and return at once, as S3 does."""
    active = runtime.active()
    if active is None:
        log.warning("S3 event for %s dropped: no local Lambda runtime is running", fn_arn)
        return
    delay = pace.s3_event_delivery()  # AWS: "typically seconds"; 0 on the instant profile
    active.invoke_async(account_id, region_name, fn_arn, json.dumps(event_body).encode(), delay)


def _wrap_send_event(original: Any) -> Any:
    complete = notifications.S3NotificationEvent.OBJECT_CREATED_COMPLETE_MULTIPART_UPLOAD_EVENT

    @functools.wraps(original)
    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        if getattr(_completing, "active", False) and event_name != complete:
            return  # the Put/Tagging moto emits while assembling a multipart object: S3 sends neither
        original(account_id, event_name, bucket, key)

    return send_event


def _wrap_complete_multipart_upload(original: Any) -> Any:
    @functools.wraps(original)
    def complete_multipart_upload(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        _completing.active = True
        try:
            return original(self, *args, **kwargs)
        finally:
            _completing.active = False

    return complete_multipart_upload


def apply() -> None:
    # moto's models call these through the module at call time, so replacing the attributes is enough.
    install(notifications, "_get_s3_event", get_s3_event)
    install(notifications, "_invoke_awslambda", invoke_awslambda)
    install(notifications, "send_event", _wrap_send_event(notifications.send_event))
    wrapped = _wrap_complete_multipart_upload(S3Backend.complete_multipart_upload)
    install(S3Backend, "complete_multipart_upload", wrapped)
