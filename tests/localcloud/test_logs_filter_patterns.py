"""CloudWatch Logs JSON filter patterns select events as on AWS (moto 5.2.5 matches every event with them).

Expected matches follow AWS's documentation, "Filter pattern syntax for metric filters, subscription filters, and
filter log events", section "Using filter patterns to match terms in JSON log events": a braced pattern tests the
fields of JSON events only; ``=``/``!=`` take a string (``*`` a wildcard) or a number, ``<``/``>``/``<=``/``>=`` a
number; ``IS TRUE``/``IS FALSE``/``IS NULL``/``NOT EXISTS``; ``&&``, ``||`` and parentheses combine them.
"""

from __future__ import annotations

import json
import os
import time

import pytest

EVENTS = {
    "error-slow": {"level": "ERROR", "latency": 900, "ip": "10.0.0.7", "user": {"id": 7}, "tags": ["a", "b"]},
    "error-fast": {"level": "ERROR", "latency": 20, "ip": "192.168.1.1", "retry": True},
    "info-slow": {"level": "INFO", "latency": 600.5, "ip": "10.0.3.1", "user": {"id": 8}, "tags": ["b"]},
    "no-level": {"latency": 1, "user": None, "retry": False},
}
PLAIN = "plain text line with ERROR in it"


@pytest.fixture(scope="module")
def filtered(client):
    logs = client("logs")
    group, stream = f"/filters/{os.urandom(4).hex()}", "s"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    lines = [json.dumps({"name": name, **fields}) for name, fields in EVENTS.items()] + [PLAIN]
    logs.put_log_events(
        logGroupName=group, logStreamName=stream, logEvents=[{"timestamp": now, "message": m} for m in lines]
    )

    def names(pattern: str) -> set[str]:
        found = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
        return {json.loads(e["message"])["name"] if e["message"] != PLAIN else "plain" for e in found}

    return names


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.level = "ERROR" }', {"error-slow", "error-fast"}),
        ("{ $.level = ERROR }", {"error-slow", "error-fast"}),  # a bare string
        ('{ $.level != "ERROR" }', {"info-slow"}),  # a missing field satisfies no comparison
        ("{ $.latency > 500 }", {"error-slow", "info-slow"}),
        ("{ $.latency <= 20 }", {"error-fast", "no-level"}),
        ("{ $.latency = 600.5 }", {"info-slow"}),
        ("{ $.latency != 1 }", {"error-slow", "error-fast", "info-slow"}),
        ("{ $.ip = 10.0.* }", {"error-slow", "info-slow"}),  # the wildcard
        ('{ $.ip != "10.0.*" }', {"error-fast"}),
        ("{ $.user.id = 7 }", {"error-slow"}),
        ('{ $.tags[0] = "b" }', {"info-slow"}),
        ('{ $.level = "ERROR" && $.latency > 100 }', {"error-slow"}),
        ('{ $.level = "INFO" || $.latency < 10 }', {"info-slow", "no-level"}),
        ('{ ($.level = "ERROR" || $.level = "INFO") && $.latency < 700 }', {"error-fast", "info-slow"}),
        ("{ $.retry IS TRUE }", {"error-fast"}),
        ("{ $.retry IS FALSE }", {"no-level"}),
        ("{ $.user IS NULL }", {"no-level"}),
        ("{ $.level NOT EXISTS }", {"no-level"}),
        ("{ $.tags EXISTS }", {"error-slow", "info-slow"}),
        ('{ $.nothing = "x" }', set()),
    ],
)
def test_a_json_pattern_selects_the_events_aws_does(filtered, pattern, expected):
    assert filtered(pattern) == expected


def test_a_json_pattern_never_matches_an_event_that_is_not_json(filtered):
    assert "plain" not in filtered("{ $.level != 1 }")


def test_term_patterns_are_still_moto_s(filtered):
    assert filtered("plain") == {"plain"}
    assert filtered("") == set(EVENTS) | {"plain"}
