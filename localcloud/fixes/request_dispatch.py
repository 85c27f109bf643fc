"""Route each request to its service without scanning moto's package directory; moto 5.2.5 scans it every time.

AWS behaviour relied on: S3 -> Lambda keeps up with bursts of uploads (the target here is >= 150 uploads/s end
to end on 2 cores).

moto gap: ``DomainDispatcherApplication.get_backend_for_host`` runs, for every request and under one global
lock, ``moto.backends.list_of_moto_modules()``, which lists moto's package directory and stats each of its ~200
entries. That serialises about a millisecond of system calls per request. The list cannot change while the
process runs, so this fix replaces the function with one that computes it once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from moto import backends

from localcloud.patches import install


def apply() -> None:
    scan = backends.list_of_moto_modules

    @functools.cache
    def modules() -> frozenset[str]:
        return frozenset(scan())

    def list_of_moto_modules() -> Iterable[str]:
        return modules()

    install(backends, "list_of_moto_modules", list_of_moto_modules)
