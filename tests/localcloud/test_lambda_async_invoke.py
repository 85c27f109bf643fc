"""Lambda's asynchronous invocation as AWS documents it: per-function queues and one event invoke config."""

from __future__ import annotations

import time

from fixtures_lambda.functions import count, create_function, invoke, wait_for_logs

from localcloud import runtime


def group_of(name: str) -> str:
    return f"/aws/lambda/{name}"


def test_a_slow_function_only_delays_its_own_events(client):
    slow = create_function(client, "sleeps", Timeout=10)
    quick = create_function(client, "silent")
    busy = runtime.active()._concurrency + 2  # more than every dispatcher a shared pool would have
    for _ in range(busy):
        invoke(client, slow["FunctionName"], {"seconds": 4}, InvocationType="Event")
    wait_for_logs(client, group_of(slow["FunctionName"]), lambda m: count(m, "going to sleep") >= 1)

    started = time.monotonic()
    invoke(client, quick["FunctionName"], InvocationType="Event")
    messages = wait_for_logs(client, group_of(quick["FunctionName"]), lambda m: count(m, "REPORT") >= 1, timeout=10)
    assert count(messages, "REPORT") == 1
    assert time.monotonic() - started < 3  # not after the slow function's 4 s
