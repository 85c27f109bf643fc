"""The AWS-paced delays outside CloudFormation: S3 event delivery and CloudWatch Logs ingestion.

Both come from the latency profile (``localcloud.cloudformation.latency``: 0 on the default instant profile,
AWS-like and scalable on ``latency="aws"``). S3 hands Lambda its events "typically in seconds" (S3 User Guide,
"Amazon S3 Event Notifications"); a log line becomes readable a few seconds after the function wrote it
(CloudWatch Logs ingestion). The delayed log writes run in order on one timer thread, ``later()``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("localcloud")


def s3_event_delivery() -> float:
    from localcloud.cloudformation import latency

    return latency.current().s3_event_delivery


def logs_ingestion() -> float:
    from localcloud.cloudformation import latency

    return latency.current().logs_ingestion


class _Timer:
    """One daemon thread running callbacks when due, in due order (ties in submission order)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def later(self, delay: float, callback: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), callback))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="localcloud-pace", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, _, callback = heapq.heappop(self._heap)
            try:
                callback()
            except Exception:  # one failed write must not stop the later ones
                log.exception("a delayed local cloud write failed")


later = _Timer().later
