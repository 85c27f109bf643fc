"""The order the suite's files are handed to xdist's workers: the longest first, by their time in the last run.

``--dist loadfile`` gives each worker whole files, two queued at a time, in the order of the work queue. xdist's
default queue (``--loadscope-reorder``) puts the files with the most tests first, so a file of one or two slow
tests (a paced deploy, a real ``invoke watch``) is handed out last and runs alone while the other workers idle.
With ``--no-loadscope-reorder`` (pyproject.toml) the queue is the collection order, which this sets: the files
that took longest last time first, so the last files handed out are short ones and the workers finish together.

The seconds per file (setup, call and teardown of its tests, summed) are kept in pytest's own cache
(``.pytest_cache``, ``--cache-clear`` forgets them). A file with no figure yet (a fresh clone, a new file) goes
after those with one, the files with most tests first, as xdist would have queued it.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

KEY = "s3-lambda-gitops/seconds-per-test-file"


class Item(Protocol):
    nodeid: str


T = TypeVar("T", bound=Item)


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def kept_seconds(cache) -> dict[str, float]:
    """The last run's seconds per file; anything in the cache that is not such a mapping counts as nothing."""
    kept = cache.get(KEY, {})
    if not isinstance(kept, dict):
        return {}
    return {name: float(s) for name, s in kept.items() if isinstance(s, int | float) and not isinstance(s, bool)}


def longest_first(items: Sequence[T], seconds: Mapping[str, float]) -> list[T]:
    """``items`` with each file's tests together and in their order, the files longest first (see the module)."""
    tests = collections.Counter(file_of(item.nodeid) for item in items)

    def rank(item: T) -> tuple[bool, float, int]:
        name = file_of(item.nodeid)
        known = name in seconds
        return (not known, -seconds.get(name, 0.0), -tests[name])

    return sorted(items, key=rank)  # stable: files that rank the same keep their collection order


class Recorder:
    """A pytest plugin for the controlling process: adds up each file's seconds and keeps them for the next run."""

    def __init__(self, cache) -> None:
        self.cache = cache
        self.seconds: dict[str, float] = collections.defaultdict(float)

    def pytest_runtest_logreport(self, report) -> None:
        self.seconds[file_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self) -> None:
        if self.seconds:  # a partial run (-k, one file) updates its files and keeps the others' figures
            self.cache.set(KEY, {**kept_seconds(self.cache), **self.seconds})
