"""The Lambda handler, fed AWS's sample S3 event shapes from tests/events/."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def _load_handler():
    # "lambda" is a keyword, so the module is loaded from its path rather than imported as a package.
    spec = importlib.util.spec_from_file_location("s3_upload_handler", ROOT / "lambda" / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


handler_module = _load_handler()
LOGGER = handler_module.logger.name


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def context():
    return SimpleNamespace(aws_request_id=REQUEST_ID, function_name="s3-lambda-gitops-dev-handler")


def records_of(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def test_single_put_logs_one_structured_line_with_decoded_key(caplog, context):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        summary = handler_module.handler(event("s3-put.json"), context)

    assert summary == {"processed": 1, "ignored": 0, "test_event": False, "keys": ["test/key"]}
    (record,) = records_of(caplog)
    assert record.levelno == logging.INFO
    assert record.event_name == "ObjectCreated:Put"
    assert record.bucket == "example-bucket"
    assert record.key == "test/key"
    assert record.size == 1024
    assert record.etag == "0123456789abcdef0123456789abcdef"
    assert record.sequencer == "0A1B2C3D4E5F678901"
    assert record.request_id == REQUEST_ID
    # verify greps CloudWatch for the key, so it is in the message text too.
    assert "key=test/key" in record.getMessage()


def test_several_records_give_one_line_each_with_plus_and_percent_decoding(caplog, context):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        summary = handler_module.handler(event("s3-multiple-records.json"), context)

    expected = ["images/Happy Face(v2).jpg", "verify/2024-01-01T00:00:00Z-café report.txt"]
    assert summary["processed"] == 2
    assert summary["keys"] == expected
    logged = records_of(caplog)
    assert [r.key for r in logged] == expected
    assert [r.event_name for r in logged] == ["ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload"]
    assert [r.sequencer for r in logged] == ["0055AED6DCD90281E5", "0055AED6DCD90281E6"]
    assert logged[1].size == 5242880
    assert logged[1].etag == "9b2cf535f27731c974343645a3985328-2"
    assert all(r.request_id == REQUEST_ID for r in logged)
    assert all(f"key={k}" in r.getMessage() for r, k in zip(logged, expected, strict=True))


def test_s3_test_event_warns_and_does_not_raise(caplog, context):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        summary = handler_module.handler(event("s3-test-event.json"), context)

    assert summary == {"processed": 0, "ignored": 1, "test_event": True, "keys": []}
    (record,) = records_of(caplog)
    assert record.levelno == logging.WARNING
    assert "test event" in record.getMessage()
    assert record.bucket == "amzn-s3-demo-bucket"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"detail-type": "Scheduled Event", "source": "aws.events"}, id="eventbridge"),
        pytest.param({}, id="empty-object"),
        pytest.param({"Records": "oops"}, id="records-not-a-list"),
        pytest.param(["not", "a", "dict"], id="list-payload"),
        pytest.param(None, id="none"),
    ],
)
def test_non_s3_events_warn_and_do_not_raise(caplog, context, payload):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        summary = handler_module.handler(payload, context)

    assert summary["processed"] == 0
    assert summary["ignored"] == 1
    (record,) = records_of(caplog)
    assert record.levelno == logging.WARNING
    assert "not an S3 event" in record.getMessage()


def test_non_s3_records_are_skipped_with_a_warning(caplog, context):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        summary = handler_module.handler(event("sns-notification.json"), context)

    assert summary == {"processed": 0, "ignored": 1, "test_event": False, "keys": []}
    (record,) = records_of(caplog)
    assert record.levelno == logging.WARNING
    assert record.event_source == "aws:sns"


def test_mixed_records_process_the_s3_ones(caplog, context):
    mixed = {"Records": event("sns-notification.json")["Records"] + event("s3-put.json")["Records"]}
    with caplog.at_level(logging.INFO, logger=LOGGER):
        summary = handler_module.handler(mixed, context)

    assert summary == {"processed": 1, "ignored": 1, "test_event": False, "keys": ["test/key"]}


def test_missing_context_still_logs(caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        summary = handler_module.handler(event("s3-put.json"), None)

    assert summary["processed"] == 1
    assert records_of(caplog)[0].request_id is None


def test_summary_is_json_serialisable(context):
    summary = handler_module.handler(event("s3-multiple-records.json"), context)
    assert json.loads(json.dumps(summary)) == summary


def test_lambda_json_log_format_renders_every_field(context):
    """With LoggingConfig LogFormat JSON, the runtime's formatter renders the ``extra`` fields as keys."""
    formatter_module = pytest.importorskip("awslambdaric.lambda_runtime_log_utils")
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    capture = Capture()
    capture.setFormatter(formatter_module.JsonFormatter())
    handler_module.logger.addHandler(capture)
    try:
        handler_module.handler(event("s3-put.json"), context)
    finally:
        handler_module.logger.removeHandler(capture)

    (line,) = lines
    document = json.loads(line)
    assert document["message"] == "object created key=test/key bucket=example-bucket artifact=unknown"
    assert document["level"] == "INFO"
    assert document["artifact"] == "unknown"  # no ARTIFACT_SHA256 outside a deployed function
    for field, value in {
        "event_name": "ObjectCreated:Put",
        "bucket": "example-bucket",
        "key": "test/key",
        "size": 1024,
        "etag": "0123456789abcdef0123456789abcdef",
        "sequencer": "0A1B2C3D4E5F678901",
        "request_id": REQUEST_ID,
    }.items():
        assert document[field] == value, field


def test_every_line_carries_the_artifact_digest_the_stack_set(monkeypatch, caplog, context):
    """verify proves the version from this field: the stack sets ARTIFACT_SHA256 from the artifact's key."""
    digest = "ab" * 32
    monkeypatch.setenv("ARTIFACT_SHA256", digest)
    module = _load_handler()
    with caplog.at_level(logging.INFO, logger=module.logger.name):
        module.handler(event("s3-put.json"), context)
        module.handler(event("s3-test-event.json"), context)
    records = [r for r in caplog.records if r.name == module.logger.name]
    assert len(records) == 2 and all(r.artifact == digest for r in records)
    assert f"artifact={digest}" in records[0].getMessage()
