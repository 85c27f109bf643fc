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


def test_polls_start_at_a_twentieth_of_a_second_and_settle_at_half_a_second():
    """A local change set or stack (tens of milliseconds) is seen at once; on AWS a finished stack is noticed
    about a quarter of a second later, half a second at worst (plus the call)."""
    delays = _delays(cfn.Backoff(), [False] * 10)
    assert delays[:4] == pytest.approx([0.05, 0.075, 0.1125, 0.16875])
    assert delays == sorted(delays) and max(delays) == 0.5 and delays[-3:] == [0.5, 0.5, 0.5]
    assert sum(delays[:6]) < 1.1  # six polls in the first second, then two a second


def test_news_brings_the_quarter_second_polls_back_and_never_slows_the_first_ones():
    backoff = cfn.Backoff()
    _delays(backoff, [False] * 8)
    backoff.reset()
    assert _delays(backoff, [False, False]) == pytest.approx([0.25, 0.375])
    fresh = cfn.Backoff()
    fresh.reset()  # news at the first poll (a local stack already moving): still the quick polls
    assert _delays(fresh, [False]) == [0.05]


def test_throttling_slows_down_to_two_seconds_and_no_further():
    delays = _delays(cfn.Backoff(), [True] * 7)
    assert delays[1] == pytest.approx(0.15) and max(delays) == 2.0 and delays[-2:] == [2.0, 2.0]
