"""Redrive on the local cloud: events that failed every retry are replayed after a fix, each exactly once."""

from __future__ import annotations

import time

import pytest

from pipeline import commands, redrive
from pipeline.errors import Interrupted, UserError

FAILS_ON_BAD_KEYS = """
import logging
import os
from urllib.parse import unquote_plus

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        if key.startswith("bad/"):
            raise ValueError("cannot handle " + key)
        logging.info("object created key=%s bucket=x artifact=%s", key, os.environ.get("ARTIFACT_SHA256"))
"""
BAD_KEYS = ["bad/one.txt", "bad/two words.txt", "bad/three.txt"]


def _visible(client, queue_url: str) -> int:
    attributes = client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _wait_for(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _lines_for(client, group: str, key: str) -> list[str]:
    events = commands.verify_step.filter_all(client("logs"), logGroupName=group)
    return [e["message"] for e in events if f"key={key} " in e["message"] and "ERROR" not in e["message"]]


@pytest.fixture
def failed_events(make_settings, client, monkeypatch):
    """A stack whose handler failed on three keys (no retries), which sit in its failure queue; then fixed."""
    # The local cloud's queue is one server, so short polling is exact there: no long poll at the end of a run.
    monkeypatch.setattr(redrive, "RECEIVE_WAIT_SECONDS", 0)
    settings = make_settings(parameters={"MaxRetryAttempts": "0"})
    good_code = (settings.lambda_dir / "handler.py").read_text()
    (settings.lambda_dir / "handler.py").write_text(FAILS_ON_BAD_KEYS)
    outputs = commands.deploy(settings).outputs
    for key in ["good/one.txt", *BAD_KEYS]:
        client("s3").put_object(Bucket=outputs["BucketName"], Key=key, Body=b"x")
    _wait_for(lambda: _visible(client, outputs["FailureQueueUrl"]) == len(BAD_KEYS))
    (settings.lambda_dir / "handler.py").write_text(good_code)  # the fix
    commands.deploy(settings)
    return settings, outputs


def test_redrive_replays_every_failed_event_once_and_empties_the_queue(failed_events, client, capsys):
    settings, outputs = failed_events
    listed = commands.redrive(settings, dry_run=True)
    assert sorted(listed.listed) == sorted(BAD_KEYS) and listed.redriven == 0
    assert _visible(client, outputs["FailureQueueUrl"]) == 3  # a dry run puts every message back at once

    counts = commands.redrive(settings)
    assert (counts.received, counts.redriven, counts.failed, counts.skipped) == (3, 3, 0, 0)
    assert _visible(client, outputs["FailureQueueUrl"]) == 0
    for key in BAD_KEYS:
        assert len(_lines_for(client, outputs["LogGroupName"], key)) == 1, key
    assert "3 redriven and deleted" in capsys.readouterr().out


def test_ctrl_c_in_the_middle_loses_no_message(failed_events, client):
    settings, outputs = failed_events
    said = []

    def say(text: str) -> None:
        said.append(text)
        if text.startswith("  redriven"):
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match=r"1 redriven and deleted.*put back"):
        commands.redrive(settings, say=say)
    assert _visible(client, outputs["FailureQueueUrl"]) == 2  # visible again at once, not after the timeout
    assert commands.redrive(settings).redriven == 2
    redriven = [k for k in BAD_KEYS if len(_lines_for(client, outputs["LogGroupName"], k)) == 1]
    assert sorted(redriven) == sorted(BAD_KEYS)


def test_a_replay_that_fails_again_keeps_its_message(failed_events, client):
    settings, outputs = failed_events
    (settings.lambda_dir / "handler.py").write_text(FAILS_ON_BAD_KEYS)  # "fixed" wrongly: still fails
    commands.deploy(settings)
    said = []
    with pytest.raises(UserError, match=r"1 event\(s\) failed again and were kept"):
        commands.redrive(settings, limit=1, say=said.append)
    assert "1 received, 0 redriven and deleted, 1 failed again (kept)" in said[-1]
    assert _visible(client, outputs["FailureQueueUrl"]) >= 3  # kept (and Lambda queues the new failure too)


def test_records_that_are_not_failed_s3_invocations_are_skipped_and_kept():
    assert redrive.original_event("not json") is None
    assert redrive.original_event('{"requestPayload": "text"}') is None
    event = redrive.original_event('{"requestPayload": {"Records": [{"s3": {"object": {"key": "a+b%21"}}}]}}')
    assert redrive.object_keys(event) == ["a b!"]
