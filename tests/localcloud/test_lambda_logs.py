"""CloudWatch Logs reads stay consistent while Lambda workers write: AWS never answers a read with a 500."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

from localcloud import lambda_logs

ROUNDS = 30


def test_reading_logs_while_workers_write_them_never_fails(client):
    group = f"/aws/lambda/race-{os.urandom(4).hex()}"
    fn = SimpleNamespace(account_id="123456789012", region="us-east-1")
    lambda_logs.write(fn, group, "first", [(int(time.time() * 1000), "hello\n")])
    stop = threading.Event()
    written = [0]

    def writer() -> None:  # what starting workers do: new streams, new events
        while not stop.is_set():
            written[0] += 1
            now = int(time.time() * 1000)
            lambda_logs.write(fn, group, f"stream-{written[0]}", [(now, f"line {n}\n") for n in range(20)])
            time.sleep(0.01)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    logs = client("logs")
    try:
        # Rounds of reads, not a stopwatch: enough of them, each overlapping new streams being written.
        rounds = 0
        while rounds < ROUNDS or written[0] < ROUNDS:
            rounds += 1
            logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True, limit=5)
            logs.filter_log_events(logGroupName=group, limit=5)
            logs.get_log_events(logGroupName=group, logStreamName="first")
            logs.describe_log_groups(logGroupNamePrefix=group)
    finally:
        stop.set()
        thread.join()
