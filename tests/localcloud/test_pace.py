"""On the AWS-paced latency profile, S3 hands events to Lambda after a delay and log lines become readable only
after CloudWatch Logs' ingestion delay (localcloud.cloudformation.latency gives both; instant by default)."""

from __future__ import annotations

import time

import pytest
from fixtures_lambda.functions import (
    count,
    create_function,
    group_of,
    invoke,
    log_events,
    notified_bucket,
    wait_for_logs,
)

from localcloud.cloudformation import latency

SCALE = 0.25  # S3 delivers after 0.25 s, a log line is readable 0.75 s after it is written


@pytest.fixture
def aws_paced():
    profile = latency.parse(f"aws*{SCALE}")
    latency.use(profile)
    try:
        yield profile
    finally:
        latency.use(latency.INSTANT)


def test_s3_delivers_the_event_after_the_profiles_delay(client, aws_paced):
    fn = create_function(client, "s3_record")
    bucket = notified_bucket(client, fn["FunctionArn"])
    uploaded_ms = time.time() * 1000
    client("s3").put_object(Bucket=bucket, Key="paced.txt", Body=b"x")
    wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") >= 1)
    start = next(e for e in log_events(client, group_of(fn["FunctionName"])) if e["message"].startswith("START"))
    assert start["timestamp"] - uploaded_ms >= aws_paced.s3_event_delivery * 1000 - 1


def test_log_lines_are_readable_only_after_the_ingestion_delay(client, aws_paced):
    fn = create_function(client, "echo")
    invoke(client, fn["FunctionName"], {"paced": True})  # synchronous: the lines are written by now
    assert log_events(client, group_of(fn["FunctionName"])) == []  # not ingested yet
    wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") >= 1)
    for event in log_events(client, group_of(fn["FunctionName"])):
        assert event["ingestionTime"] - event["timestamp"] >= aws_paced.logs_ingestion * 1000 - 1


def test_a_bad_latency_spec_is_refused_before_anything_starts():
    import localcloud

    with pytest.raises(ValueError, match="Unknown latency profile"), localcloud.start(latency="slow"):
        pass
