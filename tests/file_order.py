"""The order the suite's files are handed to xdist's workers: the longest first, by their time in the last run.

``--dist loadfile`` gives each worker whole files, two queued at a time, in the order of the work queue. xdist's
default queue (``--loadscope-reorder``) puts the files with the most tests first, so a file of one or two slow
tests (a paced deploy, a real ``invoke watch``) is handed out last and runs alone while the other workers idle.
With ``--no-loadscope-reorder`` (pyproject.toml) the queue is the collection order, which this sets: the files
that took longest last time first, so the last files handed out are short ones and the workers finish together.

The seconds per file (setup, call and teardown of its tests, summed) are kept in pytest's own cache
(``.pytest_cache``, ``--cache-clear`` forgets them). A fresh clone (CI) has no cache yet: it takes the figures
committed in ``file_seconds.json`` beside this module, and the cache's own, where it has them, win. A file with no
figure in either (a new file) goes after those with one, the files with most tests first, as xdist would have
queued it. ``python tests/file_order.py`` writes this checkout's cached figures into ``file_seconds.json``.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

KEY = "s3-lambda-gitops/seconds-per-test-file"
SEED = Path(__file__).with_name("file_seconds.json")


class Item(Protocol):
    nodeid: str


T = TypeVar("T", bound=Item)


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _figures(kept: object) -> dict[str, float]:
    """The seconds per file in ``kept``; anything that is not such a mapping counts as nothing."""
    if not isinstance(kept, dict):
        return {}
    return {name: float(s) for name, s in kept.items() if isinstance(s, int | float) and not isinstance(s, bool)}


def kept_seconds(cache) -> dict[str, float]:
    """The last run's seconds per file, from pytest's cache."""
    return _figures(cache.get(KEY, {}))


def seed_seconds(path: Path | None = None) -> dict[str, float]:
    """The committed figures (``SEED``; a missing or unreadable file counts as none)."""
    try:
        return _figures(json.loads((path or SEED).read_text()))
    except (OSError, ValueError):
        return {}


def seconds(cache) -> dict[str, float]:
    """The figures the order uses: the committed ones, and this checkout's last run over them."""
    return {**seed_seconds(), **(kept_seconds(cache) if cache is not None else {})}


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


if __name__ == "__main__":  # python tests/file_order.py: commit the current figures as the fresh clone's order
    cached = SEED.parent.parent / ".pytest_cache" / "v" / KEY
    figures = _figures(json.loads(cached.read_text())) if cached.exists() else {}
    if not figures:
        raise SystemExit(f"No figures in {cached}: run the suite once (python -m pytest), then this again.")
    tests = SEED.parent
    current = {name: round(s, 1) for name, s in sorted(figures.items()) if (tests.parent / name).exists()}
    SEED.write_text(json.dumps(current, indent=1) + "\n")
    print(f"{SEED}: {len(current)} files, {sum(current.values()):.0f} s in all.")
