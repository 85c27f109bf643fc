"""`invoke logs`: records read from both of Lambda's log formats, shown one readable line each, with filters."""

from __future__ import annotations

import json
import re
import time

import pytest

from pipeline import cfn, commands
from pipeline.errors import UserError
from pipeline.logs import check_pattern, read
from pipeline.logs_view import line, shown

RID = "0f6b2c1e-8d3a-4b7e-9a55-2f1c3d4e5f60"
T = 1_767_257_401_123  # 2026-01-01T08:50:01.123Z


def ev(message, stamp=T):
    return {"eventId": str(stamp), "timestamp": stamp, "message": message, "logStreamName": "s"}


# Line shapes from the Lambda developer guide ("Using Lambda logs with Python", "Log-level filtering"):
TEXT_INFO = f"[INFO]\t2026-01-01T08:50:01.123Z\t{RID}\tobject created key=a.txt bucket=b\n"
TEXT_REPORT = (
    f"REPORT RequestId: {RID}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 40 MB\tInit Duration: 120.50 ms\t\n"
)
JSON_INFO = json.dumps(
    {"timestamp": "2026-01-01T08:50:01Z", "level": "INFO", "message": "object created", "requestId": RID}
)
JSON_ERROR = json.dumps({"errorMessage": "boom", "errorType": "RuntimeError", "requestId": RID, "stackTrace": [
    '  File "/var/task/handler.py", line 2, in handler\n']})  # fmt: skip
JSON_REPORT = json.dumps(
    {
        "time": "2026-01-01T08:50:01.200Z",
        "type": "platform.report",
        "record": {
            "requestId": RID,
            "metrics": {"durationMs": 1.23, "billedDurationMs": 2, "memorySizeMB": 128, "maxMemoryUsedMB": 40},
            "status": "timeout",
        },
    }
)


def test_text_records_have_time_level_request_id_and_message():
    record = read(ev(TEXT_INFO))
    assert (record.level, record.request_id, record.message) == ("INFO", RID, "object created key=a.txt bucket=b")
    assert line(record).plain == f"08:50:01.123  INFO     {RID}  object created key=a.txt bucket=b"


def test_json_records_read_the_same():
    record = read(ev(JSON_INFO))
    assert (record.level, record.request_id, record.message) == ("INFO", RID, "object created")


def test_start_and_end_are_hidden_and_report_is_one_compact_line():
    assert not shown(read(ev(f"START RequestId: {RID} Version: $LATEST\n")))
    assert not shown(read(ev(f"END RequestId: {RID}\n")))
    assert not shown(read(ev(json.dumps({"type": "platform.start", "record": {"requestId": RID}}))))
    text = line(read(ev(TEXT_REPORT))).plain
    assert text == f"08:50:01.123           {RID}  REPORT 1.23 ms (billed 2 ms), 40 MB of 128 MB, init 120.50 ms"


def test_errors_are_marked_in_both_formats():
    uncaught = read(ev(JSON_ERROR))
    assert uncaught.is_error and uncaught.message.startswith("RuntimeError: boom\n  File ")
    assert read(ev("[ERROR] RuntimeError: boom\nTraceback (most recent call last):\n")).is_error
    assert read(ev(f"2026-01-01T08:50:04.000Z {RID} Task timed out after 3.00 seconds\n")).is_error
    timeout = read(ev(JSON_REPORT))
    assert timeout.is_error and line(timeout).plain.endswith(
        "REPORT 1.23 ms (billed 2 ms), 40 MB of 128 MB, status timeout"
    )
    assert not read(ev(TEXT_INFO)).is_error
    styled = line(uncaught)
    assert any(span.style == "bold red" for span in styled.spans)


def test_a_multi_line_message_stays_under_its_column():
    text = line(read(ev(JSON_ERROR))).plain.split("\n")
    assert text[1].startswith(" " * text[0].index("RuntimeError") + "  File")


def test_a_line_in_neither_format_is_kept_as_it_is():
    record = read(ev("plain print output\n"))
    assert (record.level, record.request_id, record.message) == ("", "", "plain print output")


@pytest.mark.parametrize(
    ("pattern", "says"),
    [('{ $.level = "ERROR"', "'}' is missing"), ('"object created', "is not closed"), ("ERROR ]", "closes nothing")],
)
def test_an_unbalanced_filter_pattern_is_refused_with_the_syntax(pattern, says):
    with pytest.raises(UserError, match=re.escape(says)) as caught:
        check_pattern(pattern)
    assert "FilterAndPatternSyntax" in str(caught.value)
    assert check_pattern('{ $.level = "ERROR" }') == '{ $.level = "ERROR" }'


def _logged(settings, client, key):
    outputs = commands.deploy(settings).outputs
    client("s3").put_object(Bucket=outputs["BucketName"], Key=key, Body=b"x")
    deadline, backoff = time.monotonic() + 60, cfn.Backoff()  # polls from 0.05 s, growing to 0.5 s
    while time.monotonic() < deadline:
        events = client("logs").filter_log_events(logGroupName=outputs["LogGroupName"])["events"]
        if any("platform.report" in e["message"] or e["message"].startswith("REPORT") for e in events):
            return outputs
        backoff.wait()
    raise AssertionError("the function never reported")


def test_logs_on_the_local_cloud_filter_and_request_id(make_settings, client, capsys):
    settings = make_settings()
    _logged(settings, client, "logs-view/a.txt")
    capsys.readouterr()
    assert commands.logs(settings, since="5m") >= 2
    printed = capsys.readouterr().out
    match = re.search(
        r"^\d\d:\d\d:\d\d\.\d{3}  INFO     ([0-9a-f-]{36})  object created key=logs-view/a\.txt", printed, re.M
    )
    assert match, printed
    request_id = match.group(1)
    assert re.search(rf"^\S+ +{request_id}  REPORT \d", printed, re.M)
    assert "START RequestId" not in printed and '"type":"platform.start"' not in printed

    commands.logs(settings, since="5m", request_id=request_id)
    only = capsys.readouterr().out.splitlines()
    assert only and all(request_id in row for row in only)

    commands.logs(settings, since="5m", pattern='"logs-view/a.txt"', as_json=True)
    raw = [json.loads(row) for row in capsys.readouterr().out.splitlines()]
    assert raw and all("logs-view/a.txt" in r["message"] for r in raw) and {"eventId", "timestamp"} <= set(raw[0])


def test_an_empty_window_says_so(make_settings, capsys):
    settings = make_settings()
    commands.deploy(settings)
    capsys.readouterr()
    assert commands.logs(settings, since="5m", pattern="no-such-term-anywhere") == 0
    out = capsys.readouterr().out
    assert "No log events in /aws/lambda/" in out and "matching --filter 'no-such-term-anywhere'" in out


def test_an_invalid_pattern_is_a_user_error_before_any_call(make_settings):
    with pytest.raises(UserError, match="is missing at the end"):
        commands.logs(make_settings(), pattern="{ $.level = ")


def test_a_pattern_cloudwatch_rejects_is_explained():
    """FilterLogEvents answers a bad parameter with InvalidParameterException (its documented error); the task
    passes CloudWatch's own words on, with the syntax to use."""
    import boto3
    from botocore.stub import Stubber

    from pipeline.logs import tail

    logs = boto3.client("logs", region_name="us-east-1")
    with Stubber(logs) as stubber:
        stubber.add_client_error("filter_log_events", "InvalidParameterException", "Invalid character(s) in term")
        with pytest.raises(UserError) as caught:
            list(tail(logs, "g", 0, pattern="ERROR&"))
    message = str(caught.value)
    assert message.startswith("CloudWatch Logs rejected the filter pattern 'ERROR&': Invalid character(s) in term")
    assert "FilterAndPatternSyntax" in message
