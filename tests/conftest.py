"""Shared fixtures: one local cloud per test session, and boto3 clients pointed at it.

Tests never reach AWS: the environment is scrubbed of real credentials and profiles before anything runs.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
from collections.abc import Callable, Iterator

import boto3
import file_order
import pytest

import localcloud

REGION = "us-east-1"

# Scrub anything that could point boto3 at a real account.
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)
os.environ.update(localcloud.DUMMY_CREDENTIALS)
os.environ["AWS_DEFAULT_REGION"] = REGION
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    """Tests never reach AWS or the internet: resolving any non-loopback name fails loudly."""
    if host not in (None, "localhost", "::1") and not str(host).startswith("127."):
        raise OSError(f"test tried to reach {host}: tests may only talk to the local cloud on loopback")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only

# A shell starts a background job (`python -m pytest &`) with SIGINT ignored, and the processes the tests start would
# inherit that: the Ctrl-C tests' children would never see their Ctrl-C. A Python handler is reset at exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_xdist_auto_num_workers(config) -> int | None:
    """``-n auto`` (pyproject.toml) is one worker more than the usable cores: part of every worker's time is spent
    waiting (paced local clouds, timeouts the tests exercise, Lambda cold starts, CLI subprocesses), and the extra
    worker runs meanwhile. PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set (xdist's own rule)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


def pytest_configure(config) -> None:
    """The controlling process (not an xdist worker) records each file's seconds for the next run's order."""
    # ``-p no:cacheprovider`` leaves no ``config.cache``: the suite then runs in collection order.
    if getattr(config, "cache", None) is not None and not hasattr(config, "workerinput"):
        config.pluginmanager.register(file_order.Recorder(config.cache), "file_order_recorder")


def pytest_collection_modifyitems(config, items) -> None:
    """The longest files first (tests/file_order.py): every worker collects, and all sort the same figures."""
    items[:] = file_order.longest_first(items, file_order.seconds(getattr(config, "cache", None)))


def pytest_collection_finish(session) -> None:
    """What collection imported and built (modules, test items) lives as long as the worker: out of the collector's
    passes with it (see pytest_runtest_teardown)."""
    gc.freeze()


@pytest.hookimpl(trylast=True)  # after pytest's own teardown: the file's module fixtures are gone by then
def pytest_runtest_teardown(item, nextitem) -> None:
    """After each file, what is left joins the permanent generation, which the cyclic collector's passes skip.

    A worker's heap grows to ~700,000 objects that live to its end (moto's modules and the session's local cloud,
    every file's imports), and each full collection walks all of them: ~4 s of CPU per worker over the suite, and
    1-2 s more at its exit, while the controller waits for the slowest. Frozen objects are still freed by reference
    counting; only a cycle that was already garbage in the old generation stays until the worker exits (the young
    ones are collected just before). ``localcloud.start()`` freezes its start-up too, and its stop unfreezes all.
    """
    if nextitem is None or nextitem.path != item.path:
        gc.collect(1)
        gc.freeze()


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """The endpoint URL of a local cloud shared by the whole session (tests use unique resource names)."""
    with localcloud.start() as url:
        yield url


@pytest.fixture(scope="session")
def client(endpoint: str) -> Callable[[str], object]:
    """``client("s3")`` gives a boto3 client for the session's local cloud."""
    cache: dict[str, object] = {}

    def make(service: str):
        if service not in cache:
            cache[service] = boto3.client(service, endpoint_url=endpoint, region_name=REGION)
        return cache[service]

    return make
