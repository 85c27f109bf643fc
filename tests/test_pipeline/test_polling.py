"""How often the deploy polls CloudFormation: early and often, settling at twice a second, slower only if
throttled."""

from __future__ import annotations

import pytest

from pipeline import cfn


def _delays(backoff: cfn.Backoff, throttled: list[bool]) -> list[float]:
    slept: list[float] = []
    backoff.sleep = slept.append
    for flag in throttled:
        backoff.wait(throttled=flag)
    return slept


def test_polls_start_at_a_quarter_second_and_settle_at_half_a_second():
    """So a finished stack is noticed about a quarter of a second later, half a second at worst (plus the call)."""
    delays = _delays(cfn.Backoff(), [False] * 8)
    assert delays[0] == 0.25
    assert delays == sorted(delays) and max(delays) == 0.5 and delays[-3:] == [0.5, 0.5, 0.5]
    assert delays[:3] == [0.25, 0.375, 0.5]


def test_news_brings_the_quick_polls_back():
    backoff = cfn.Backoff()
    _delays(backoff, [False] * 6)
    backoff.reset()
    assert _delays(backoff, [False]) == [0.25]


def test_throttling_slows_down_to_two_seconds_and_no_further():
    delays = _delays(cfn.Backoff(), [True] * 6)
    assert delays[1] == pytest.approx(0.75) and max(delays) == 2.0
