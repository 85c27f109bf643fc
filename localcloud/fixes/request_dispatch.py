"""Route each request to its service without scanning moto's package directory or trying every service's URL patterns.

AWS behaviour relied on: S3 -> Lambda keeps up with bursts of uploads (the target here is >= 150 uploads/s end
to end on 2 cores).

moto gap: ``DomainDispatcherApplication.get_backend_for_host`` runs, for every request and under one global
lock, ``moto.backends.list_of_moto_modules()``, which lists moto's package directory and stats each of its ~200
entries. That serialises about a millisecond of system calls per request. The list cannot change while the
process runs, so this fix replaces the function with one that computes it once.

moto gap: ``DomainDispatcherApplication.get_backend_for_host`` (twice per request) tries the URL patterns of every
moto service in turn (~200 regex matches) to find the service of a host name such as
``lambda.us-east-1.amazonaws.com``. The patterns never change, so each host's service is remembered once found (a
host that matches none is asked again each time, so moto's message about it still prints).

Only requests that reach moto's dispatcher need these, and plain S3 requests never do (``localcloud.s3_app``), so
this fix is installed with the deferred ones, before moto's dispatcher serves its first request.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from localcloud.patches import install

_KNOWN_HOSTS_AT_MOST = 1024  # service x region names: a few dozen in practice


def _remembered(original: Any) -> Any:
    @functools.wraps(original)
    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        known = self.__dict__.setdefault("_localcloud_backend_of_host", {})
        backend = known.get(host)
        if backend is None:
            backend = original(self, host)
            if backend is not None and len(known) < _KNOWN_HOSTS_AT_MOST:
                known[host] = backend
        return backend

    return get_backend_for_host


def apply() -> None:
    scan = backends.list_of_moto_modules

    @functools.cache
    def modules() -> frozenset[str]:
        return frozenset(scan())

    def list_of_moto_modules() -> Iterable[str]:
        return modules()

    install(backends, "list_of_moto_modules", list_of_moto_modules)
    install(
        DomainDispatcherApplication,
        "get_backend_for_host",
        _remembered(DomainDispatcherApplication.get_backend_for_host),
    )
