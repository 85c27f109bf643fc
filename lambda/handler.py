"""S3 upload handler: one structured log line per S3 record.

Standard library only. The function's ``LoggingConfig`` sets ``LogFormat: JSON``, so the runtime renders
every ``logging`` record as one JSON object, and the fields given in ``extra`` become top-level JSON keys.
The object key is also part of the message text, so a plain ``FilterLogEvents`` pattern on the key (as
``invoke verify`` uses) finds the line. Every line also carries ``artifact``, the sha256 of the zip this code
came in (the stack sets ``ARTIFACT_SHA256`` from the artifact's key), so verify can tell which version ran.

Malformed or unexpected events are logged as warnings and never raise: S3 invokes the function asynchronously,
and a raise would only make Lambda retry an event that can never succeed.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import unquote_plus

logger = logging.getLogger(__name__)
logger.setLevel(os.environ.get("HANDLER_LOG_LEVEL", "INFO"))

TEST_EVENT = "s3:TestEvent"
# Read once: the stack sets it from the artifact key, and it never changes for the life of the environment.
ARTIFACT = os.environ.get("ARTIFACT_SHA256", "unknown")


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Log every S3 record of ``event`` and return a summary of what was seen."""
    request_id = getattr(context, "aws_request_id", None)
    if not isinstance(event, dict):
        return _ignored("not an S3 event: payload is not an object", request_id, type(event).__name__)
    if event.get("Event") == TEST_EVENT:
        logger.warning(
            "s3 test event bucket=%s (sent by S3 when a notification is configured; nothing to do)",
            event.get("Bucket"),
            extra={
                "event_name": TEST_EVENT,
                "bucket": event.get("Bucket"),
                "request_id": request_id,
                "artifact": ARTIFACT,
            },
        )
        return {"processed": 0, "ignored": 1, "test_event": True, "keys": []}
    records = event.get("Records")
    if not isinstance(records, list):
        return _ignored("not an S3 event: no Records list", request_id, sorted(event)[:10])

    keys: list[str] = []
    ignored = 0
    for index, record in enumerate(records):
        fields = s3_record_fields(record)
        if fields is None:
            ignored += 1
            logger.warning(
                "record %d is not an S3 record: ignored",
                index,
                extra={
                    "record_index": index,
                    "event_source": _event_source(record),
                    "request_id": request_id,
                    "artifact": ARTIFACT,
                },
            )
            continue
        keys.append(fields["key"])
        logger.info(
            "object created key=%s bucket=%s artifact=%s",
            fields["key"],
            fields["bucket"],
            ARTIFACT,
            extra={**fields, "request_id": request_id, "artifact": ARTIFACT},
        )
    return {"processed": len(keys), "ignored": ignored, "test_event": False, "keys": keys}


def s3_record_fields(record: Any) -> dict[str, Any] | None:
    """The fields logged for one S3 record, with the key URL-decoded; ``None`` if it is not an S3 record."""
    if not isinstance(record, dict) or _event_source(record) != "aws:s3":
        return None
    s3 = record.get("s3")
    if not isinstance(s3, dict):
        return None
    bucket = s3.get("bucket") or {}
    obj = s3.get("object") or {}
    if not isinstance(bucket, dict) or not isinstance(obj, dict) or "key" not in obj:
        return None
    return {
        "event_name": record.get("eventName"),
        "bucket": bucket.get("name"),
        "key": unquote_plus(str(obj["key"])),
        "size": obj.get("size"),
        "etag": obj.get("eTag"),
        "sequencer": obj.get("sequencer"),
        "version_id": obj.get("versionId"),
        "event_time": record.get("eventTime"),
    }


def _event_source(record: Any) -> Any:
    # S3, SQS and DynamoDB records say "eventSource"; SNS records say "EventSource".
    if not isinstance(record, dict):
        return None
    return record.get("eventSource", record.get("EventSource"))


def _ignored(reason: str, request_id: str | None, detail: Any) -> dict[str, Any]:
    logger.warning(reason, extra={"request_id": request_id, "detail": str(detail), "artifact": ARTIFACT})
    return {"processed": 0, "ignored": 1, "test_event": False, "keys": []}
