"""CloudWatch Logs reads are consistent while Lambda writes; moto 5.2.5's logs backend is not thread-safe.

AWS behaviour: DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents (and the rest) answer while
functions keep logging; a read never fails because a write happened at the same time.

moto gap: ``LogsBackend`` keeps groups, streams and events in plain dicts and lists and iterates them while
building answers. The local Lambda runtime writes from its invoking threads (``localcloud.lambda_logs``) while
moto's server threads read, so polling describe-log-streams or filter-log-events while workers start failed
with ``RuntimeError: dictionary changed size during iteration`` (HTTP 500).

This fix runs every ``LogsBackend`` method that reads or changes groups, streams or events under
``localcloud.lambda_logs.LOCK`` (re-entrant), the lock the runtime's writes already take.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.logs.models import LogsBackend

from localcloud import patches
from localcloud.lambda_logs import LOCK


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return method(*args, **kwargs)

    return locked


def apply() -> None:
    # The methods are the manifest's LogsBackend entries for this fix.
    for patch in patches.PATCHES:
        if patch.fix == "logs_locking":
            name = patch.target.rsplit(".", 1)[1]
            patches.install(LogsBackend, name, _locked(getattr(LogsBackend, name)))
