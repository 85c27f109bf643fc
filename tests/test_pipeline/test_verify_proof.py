"""How verify reads the logs: only a successful invocation that logged the marker counts (pure checks)."""

from __future__ import annotations

from pipeline.proof import is_error_line, is_success_report, request_id_of

RID = "3f6c2a8e-1b2c-4d5e-8f90-123456789abc"


def test_request_id_from_json_and_text_lines():
    assert request_id_of('{"level": "INFO", "message": "x", "requestId": "' + RID + '"}') == RID
    assert request_id_of(f"START RequestId: {RID} Version: $LATEST") == RID
    assert request_id_of("no id here") is None


def test_success_reports_in_both_log_formats():
    json_report = '{"time":"t","type":"platform.report","record":{"requestId":"' + RID + '","status":"success"}}'
    assert is_success_report(json_report, RID)
    assert is_success_report(f"REPORT RequestId: {RID}\tDuration: 1.00 ms", RID)
    assert not is_success_report(json_report.replace("success", "error"), RID)
    assert not is_success_report(json_report, "another-request")


def test_error_lines_in_both_log_formats():
    assert is_error_line('{"level": "ERROR", "errorMessage": "boom"}')
    assert is_error_line("[ERROR] ValueError: boom")
    assert is_error_line("2026-01-01T00:00:00Z abc Task timed out after 3.00 seconds")
    assert is_error_line('{"type":"platform.report","record":{"status":"timeout"}}')
    assert not is_error_line('{"level": "INFO", "message": "object created key=verify/x.txt"}')
