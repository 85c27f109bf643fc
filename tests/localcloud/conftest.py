"""Fixtures the local cloud's CloudFormation tests share."""

from __future__ import annotations

import pytest

from localcloud.cloudformation import latency


@pytest.fixture
def pace():
    """``pace("aws*0.2")`` sets the local cloud's latency profile for the rest of this test (instant after it)."""
    yield lambda spec: latency.use(latency.parse(spec))
    latency.use(latency.INSTANT)
