"""benchmarks/deploy_waiting.py's stub pace: the operation's events are revealed over its time, and each is
stamped with the time it is revealed, so a tool that follows events by timestamp (SAM) sees every one of them."""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime

from pipeline.config import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import deploy_waiting


def _events(stamp: str, count: int) -> str:
    members = "".join(f"<member><EventId>e{i}</EventId><Timestamp>{stamp}</Timestamp></member>" for i in range(count))
    return f"<DescribeStackEventsResult><StackEvents>{members}</StackEvents></DescribeStackEventsResult>"


def _stamps(text: str) -> list[float]:
    found = re.findall(r"<Timestamp>(.*?)</Timestamp>", text)
    return [datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() for s in found]


def test_events_the_instant_engine_stamped_at_once_are_spread_over_the_operation():
    started = time.time() - 1.2  # past the middle of a two-second operation
    stamp = datetime.fromtimestamp(started + 0.01, UTC).isoformat().replace("+00:00", "Z")
    text = deploy_waiting._pace_events(_events(stamp, 4), started, 2.0)
    shown = _stamps(text)
    assert re.findall(r"<EventId>(.*?)</EventId>", text) == ["e2", "e3"]  # the two oldest; newest first as listed
    assert shown == sorted(shown, reverse=True) and len(set(shown)) == 2
    assert all(started < s <= time.time() for s in shown)


def test_after_the_operation_every_event_is_shown_with_its_own_time_the_last_at_its_end():
    started = time.time() - 5.0
    stamp = datetime.fromtimestamp(started, UTC).isoformat().replace("+00:00", "Z")
    shown = _stamps(deploy_waiting._pace_events(_events(stamp, 4), started, 2.0))
    assert len(shown) == 4 and len(set(shown)) == 4
    assert abs(shown[0] - (started + 2.0)) < 0.002  # the final event: when CloudFormation 'finished'
