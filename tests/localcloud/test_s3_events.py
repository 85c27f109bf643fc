"""S3 -> Lambda as AWS documents it: asynchronous, event structure 2.1, filters, retries and destinations.

Plain moto invokes synchronously inside PutObject through Docker (absent here), so every test fails there."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest
from botocore.exceptions import ClientError
from fixtures_lambda.functions import allow_s3, count, create_function, group_of, notified_bucket, wait_for_logs


def events_logged(messages: list[str]) -> list[dict]:
    return [json.loads(m.removeprefix("EVENTJSON ")) for m in messages if m.startswith("EVENTJSON ")]


def test_put_object_returns_before_the_function_runs(client):
    fn = create_function(client, "waits_for_gate", Timeout=10)
    bucket = notified_bucket(client, fn["FunctionArn"], rules=[{"Name": "prefix", "Value": "in/"}])
    client("s3").put_object(Bucket=bucket, Key="in/trigger.txt", Body=b"go")
    # The function waits for this object; had PutObject waited for the function, it would never appear in time.
    client("s3").put_object(Bucket=bucket, Key="gate/open", Body=b"")
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") >= 1)
    assert "GATE opened after the trigger returned\n" in messages


def test_put_event_has_s3_event_structure_2_1(client):
    fn = create_function(client, "s3_record")
    bucket = notified_bucket(client, fn["FunctionArn"])
    put = client("s3").put_object(Bucket=bucket, Key="reports/my file+1.txt", Body=b"12345")
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: bool(events_logged(m)))

    [event] = events_logged(messages)
    [record] = event["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventTime"].endswith("Z")
    assert record["userIdentity"]["principalId"]
    assert record["requestParameters"]["sourceIPAddress"]
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0"
    assert s3["configurationId"] == "to-lambda"
    assert s3["bucket"]["name"] == bucket
    assert s3["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert s3["bucket"]["ownerIdentity"]["principalId"]
    assert s3["object"]["key"] == "reports/my+file%2B1.txt"  # URL-encoded as S3 does: space -> '+'
    assert s3["object"]["size"] == 5
    assert s3["object"]["eTag"] == put["ETag"].strip('"')
    int(s3["object"]["sequencer"], 16)
    assert "S3EVENT reports/my+file%2B1.txt\n" in messages


def test_copy_and_multipart_uploads_name_their_events(client):
    fn = create_function(client, "s3_record")
    bucket = notified_bucket(client, fn["FunctionArn"])
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key="original", Body=b"x")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "original"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")
    part = s3.upload_part(Bucket=bucket, Key="multi", UploadId=upload["UploadId"], PartNumber=1, Body=b"y" * 10)
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="multi",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: len(events_logged(m)) >= 3)

    names = sorted(
        (e["Records"][0]["s3"]["object"]["key"], e["Records"][0]["eventName"]) for e in events_logged(messages)
    )
    # One event per object: S3 sends no ObjectCreated:Put for the object a multipart upload assembles.
    assert names == [
        ("copy", "ObjectCreated:Copy"),
        ("multi", "ObjectCreated:CompleteMultipartUpload"),
        ("original", "ObjectCreated:Put"),
    ]


def test_prefix_and_suffix_filters_are_honoured(client):
    fn = create_function(client, "s3_record")
    rules = [{"Name": "prefix", "Value": "incoming/"}, {"Name": "suffix", "Value": ".csv"}]
    bucket = notified_bucket(client, fn["FunctionArn"], rules=rules)
    for key in ("incoming/a.txt", "other/b.csv", "incoming/c.csv"):
        client("s3").put_object(Bucket=bucket, Key=key, Body=b"1")
    # Filtering happens when S3 accepts the object, so the matching event is the only one ever queued.
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: bool(events_logged(m)))

    assert [m for m in messages if m.startswith("S3EVENT ")] == ["S3EVENT incoming/c.csv\n"]


def _queue(client) -> tuple[str, str]:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=f"failures-{os.urandom(6).hex()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _receive_one(client, url: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            return json.loads(messages[0]["Body"])
    raise AssertionError("no invocation record reached the OnFailure queue")


def test_failed_event_is_retried_then_sent_to_the_on_failure_destination(client):
    fn = create_function(client, "fails_always")
    url, queue_arn = _queue(client)
    client("lambda").put_function_event_invoke_config(
        FunctionName=fn["FunctionName"],
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    bucket = notified_bucket(client, fn["FunctionArn"])
    client("s3").put_object(Bucket=bucket, Key="doomed.txt", Body=b"x")

    record = _receive_one(client, url)
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    context = record["requestContext"]
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 2  # the first attempt and MaximumRetryAttempts=1 retry
    assert context["functionArn"] == f"{fn['FunctionArn']}:$LATEST"
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "doomed.txt"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") >= 2)
    # Retries keep the request id, as Lambda's do.
    assert count(messages, "START RequestId: ") == 2
    assert count(messages, f"attempt for {context['requestId']}") == 2


def test_failed_event_is_retried_twice_by_default(client):
    fn = create_function(client, "fails_always")
    bucket = notified_bucket(client, fn["FunctionArn"])
    client("s3").put_object(Bucket=bucket, Key="doomed.txt", Body=b"x")

    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") >= 3)
    assert count(messages, "START RequestId: ") == 3
    assert len({m for m in messages if m.startswith("attempt for ")}) == 1  # one request, three attempts


def test_event_for_a_deleted_function_is_dropped_and_the_cloud_keeps_serving(client, caplog):
    caplog.set_level(logging.WARNING, logger="localcloud")
    fn = create_function(client, "s3_record")
    bucket = notified_bucket(client, fn["FunctionArn"])
    client("lambda").delete_function(FunctionName=fn["FunctionName"])

    put = client("s3").put_object(Bucket=bucket, Key="orphan.txt", Body=b"x")
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _dropped(caplog, fn["FunctionName"]):
        time.sleep(0.05)
    assert _dropped(caplog, fn["FunctionName"])
    assert client("s3").get_object(Bucket=bucket, Key="orphan.txt")["Body"].read() == b"x"
    healthy = create_function(client, "s3_record")
    healthy_bucket = notified_bucket(client, healthy["FunctionArn"])
    client("s3").put_object(Bucket=healthy_bucket, Key="fine.txt", Body=b"x")
    messages = wait_for_logs(client, group_of(healthy["FunctionName"]), lambda m: bool(events_logged(m)))
    assert "S3EVENT fine.txt\n" in messages


def _dropped(caplog, name: str) -> bool:
    return any("does not exist" in r.getMessage() and name in r.getMessage() for r in caplog.records)


def _put_lambda_notification(client, bucket: str, *configs: dict) -> None:
    client("s3").put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": list(configs)}
    )


def _config(function_arn: str, events: list[str], prefix: str = "", suffix: str = "") -> dict:
    rules = [{"Name": name, "Value": value} for name, value in (("prefix", prefix), ("suffix", suffix)) if value]
    config = {"LambdaFunctionArn": function_arn, "Events": events}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def test_notification_to_a_function_that_does_not_let_s3_invoke_it_is_refused(client):
    fn = create_function(client, "s3_record")
    bucket, other = f"events-{os.urandom(6).hex()}", f"events-{os.urandom(6).hex()}"
    client("s3").create_bucket(Bucket=bucket)
    config = _config(fn["FunctionArn"], ["s3:ObjectCreated:*"])

    with pytest.raises(ClientError) as no_permission:
        _put_lambda_notification(client, bucket, config)
    assert no_permission.value.response["Error"]["Code"] == "InvalidArgument"
    assert "Unable to validate the following destination configurations" in str(no_permission.value)

    allow_s3(client, fn["FunctionArn"], other)  # another bucket's permission does not count
    client("lambda").add_permission(  # nor does one for another account
        FunctionName=fn["FunctionName"],
        StatementId="other-account",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount="999999999999",
    )
    with pytest.raises(ClientError, match="Unable to validate"):
        _put_lambda_notification(client, bucket, config)
    assert "LambdaFunctionConfigurations" not in client("s3").get_bucket_notification_configuration(Bucket=bucket)

    allow_s3(client, fn["FunctionArn"], bucket)
    _put_lambda_notification(client, bucket, config)
    stored = client("s3").get_bucket_notification_configuration(Bucket=bucket)
    assert [c["LambdaFunctionArn"] for c in stored["LambdaFunctionConfigurations"]] == [fn["FunctionArn"]]


def test_overlapping_notification_configurations_are_refused(client):
    fn = create_function(client, "s3_record")
    bucket = f"events-{os.urandom(6).hex()}"
    client("s3").create_bucket(Bucket=bucket)
    allow_s3(client, fn["FunctionArn"], bucket)
    arn = fn["FunctionArn"]

    with pytest.raises(ClientError) as overlap:
        _put_lambda_notification(
            client,
            bucket,
            _config(arn, ["s3:ObjectCreated:*"], prefix="in/"),
            _config(arn, ["s3:ObjectCreated:Put"], prefix="in/reports/", suffix=".csv"),
        )
    assert overlap.value.response["Error"]["Code"] == "InvalidArgument"
    assert "Configurations overlap. Configurations on the same bucket cannot share a common event type." in str(
        overlap.value
    )
    # Disjoint prefixes, or different event types, do not overlap.
    _put_lambda_notification(
        client,
        bucket,
        _config(arn, ["s3:ObjectCreated:*"], prefix="in/"),
        _config(arn, ["s3:ObjectCreated:*"], prefix="out/"),
        _config(arn, ["s3:ObjectRemoved:*"], prefix="in/"),
    )
