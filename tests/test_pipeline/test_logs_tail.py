"""`invoke logs --follow`: each event once, including one ingested after later-stamped events."""

from __future__ import annotations

import itertools

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.errors import UserError
from pipeline.logs import parse_since, tail


def _event(event_id: str, stamp: int) -> dict:
    return {"eventId": event_id, "timestamp": stamp, "message": f"line {event_id}", "logStreamName": "s"}


def test_follow_prints_each_event_once_and_catches_late_arrivals():
    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(logs) as stubber:
        stubber.add_response("filter_log_events", {"events": [_event("a", 1000), _event("b", 5000)]})
        # "late" is stamped before "b" but only ingested now; "b" comes back in the look-back window.
        stubber.add_response("filter_log_events", {"events": [_event("late", 4000), _event("b", 5000)]})
        stubber.add_response("filter_log_events", {"events": [_event("b", 5000), _event("c", 9000)]})
        lines = [e["eventId"] for e in itertools.islice(tail(logs, "g", 0, follow=True, sleep=lambda s: None), 4)]
    assert lines == ["a", "b", "late", "c"]


def test_since_accepts_durations_and_rejects_the_rest():
    assert parse_since("30s") == 30 and parse_since("10m") == 600 and parse_since("2h") == 7200
    with pytest.raises(UserError, match="not a duration"):
        parse_since("yesterday")
