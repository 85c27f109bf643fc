"""verify's reading of the log (pure): which version logged the marker, failing fast, polling early and often."""

from __future__ import annotations

import json

from pipeline import verify
from pipeline.proof import judge, next_delay

TOKEN = "0b7d1e52-1111-4222-8333-944445555666"
RID = "3f6c2a8e-1b2c-4d5e-8f90-123456789abc"
OTHER = "7a7a7a7a-1b2c-4d5e-8f90-123456789abc"
SHA = "ab" * 32
UPLOADED = 1_000_000


def _event(ms: int, message: str, stream: str = "s1") -> dict:
    return {"timestamp": UPLOADED + ms, "message": message, "logStreamName": stream, "eventId": f"{ms}-{message[:8]}"}


def _start(ms: int, rid: str = RID) -> dict:
    return _event(ms, json.dumps({"type": "platform.start", "record": {"requestId": rid}}, separators=(",", ":")))


def _report(ms: int, rid: str = RID, status: str = "success") -> dict:
    record = {"requestId": rid, "status": status}
    return _event(ms, json.dumps({"type": "platform.report", "record": record}, separators=(",", ":")))


def _line(ms: int, artifact: str = SHA, rid: str = RID) -> dict:
    message = f"object created key=verify/x-{TOKEN}.txt bucket=b artifact={artifact}"
    return _event(ms, json.dumps({"level": "INFO", "message": message, "requestId": rid, "artifact": artifact}))


def _error(ms: int, rid: str = RID) -> dict:
    return _event(ms, json.dumps({"level": "ERROR", "errorMessage": "boom", "requestId": rid}))


def test_the_marker_line_of_the_expected_artifact_and_a_successful_report_pass():
    proof = judge([_start(10), _line(12), _report(13)], TOKEN, UPLOADED, SHA)
    assert proof.succeeded and proof.match.artifact == SHA and proof.match.request_id == RID


def test_no_success_report_yet_is_not_decided():
    proof = judge([_start(10), _line(12)], TOKEN, UPLOADED, SHA)
    assert not proof.succeeded and not proof.decided


def test_a_line_from_another_artifact_names_it():
    proof = judge([_start(10), _line(12, artifact="cd" * 32), _report(13)], TOKEN, UPLOADED, SHA)
    assert not proof.succeeded and proof.decided and proof.wrong_artifact == "cd" * 32


def test_a_line_without_any_digest_proves_no_version():
    plain = _event(12, json.dumps({"level": "INFO", "message": f"key=verify/{TOKEN}", "requestId": RID}))
    proof = judge([_start(10), plain, _report(13)], TOKEN, UPLOADED, SHA)
    assert proof.wrong_artifact == "none" and not proof.succeeded


def test_an_invocation_after_the_upload_that_failed_without_logging_the_marker_fails_fast():
    proof = judge([_start(10), _error(12), _report(13)], TOKEN, UPLOADED, SHA)
    assert proof.decided and proof.failed_request_id == RID and len(proof.failure_lines) == 3


def test_a_failure_that_started_before_the_upload_is_not_ours():
    proof = judge([_start(-5_000, OTHER), _error(-4_000, OTHER)], TOKEN, UPLOADED, SHA)
    assert not proof.decided and not proof.failure_lines


def test_a_retry_of_an_event_from_before_the_upload_is_not_ours():
    """Lambda retries an async event under its first request id; the marker's event gets a new one."""
    old = [_start(-900, OTHER), _error(-899, OTHER), _report(-898, OTHER)]
    retried = judge([*old, _start(50, OTHER), _error(51, OTHER)], TOKEN, UPLOADED, SHA)
    assert not retried.decided and not retried.failure_lines


def test_an_init_error_without_request_id_joins_the_next_invocation_of_its_stream():
    init = _event(5, '{"type":"platform.initReport","record":{"phase":"init","status":"error"}}')
    proof = judge([init, _start(10), _report(11, status="error")], TOKEN, UPLOADED, SHA)
    assert proof.failed_request_id == RID and "initReport" in proof.failure_lines[0]


def test_polling_starts_at_a_tenth_of_a_second_and_grows_to_one():
    delays, delay = [], 0.1
    for _ in range(8):
        delays.append(round(delay, 3))
        delay = next_delay(delay)
    assert delays == [0.1, 0.15, 0.225, 0.338, 0.506, 0.759, 1.0, 1.0]


class FakeLogs:
    """FilterLogEvents answering from a script: the events visible at each poll."""

    def __init__(self, polls):
        self.polls, self.calls = list(polls), 0

    def filter_log_events(self, **_kwargs):
        self.calls += 1
        return {"events": self.polls[min(self.calls, len(self.polls)) - 1]}


def test_wait_for_proof_stops_at_the_first_decisive_poll():
    logs = FakeLogs([[], [], [_start(10)], [_start(10), _error(11)], [_start(10), _error(11), _report(12)]])
    slept, now = [], [0.0]

    def sleep(seconds):
        slept.append(round(seconds, 3))
        now[0] += seconds

    marker = verify.Marker("b", f"verify/{TOKEN}.txt", TOKEN, UPLOADED)
    proof = verify.wait_for_proof(logs, "g", marker, 120, SHA, sleep=sleep, clock=lambda: now[0])
    assert proof.failed_request_id == RID
    assert logs.calls == 4 and slept == [0.1, 0.15, 0.225]  # not the 120 s timeout
