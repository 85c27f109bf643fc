"""A stamp that the deferred fixes' targets fit these exact moto files, so a start can trust them without importing.

The local cloud imports moto's Lambda, Logs and IAM only at their first use (``localcloud.fixes.apply_deferred``),
yet it must refuse to *start*, not fail a later request, when one of their targets is missing or changed. Checking
means importing those modules, about a fifth of a cold start. So a successful check is stamped in
``.cache/localcloud/`` (in the checkout, ignored by git) under a digest of the deferred patches as declared and of
each target module's file (path, size, modification time). A start with the same digest skips the import. A
reinstalled or edited moto, or an edited manifest, gives another digest, and the next start checks again.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localcloud.patches import Patch

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "localcloud"
PREFIX = "deferred-patches-"


def _module_file(module: str) -> Path | None:
    """Where a module's source is, found without importing it or its packages."""
    top, *rest = module.split(".")
    spec = importlib.machinery.PathFinder.find_spec(top)
    if spec is None or spec.origin is None:
        return None
    if not rest:
        return Path(spec.origin)
    path = Path(spec.origin).parent.joinpath(*rest)
    return next((f for f in (path.with_suffix(".py"), path / "__init__.py") if f.is_file()), None)


def digest(patches: Iterable[Patch]) -> str:
    patches = tuple(patches)
    found = hashlib.sha256()
    for patch in patches:
        found.update(repr(patch).encode())
    # Each module once: many patches share a target module, and finding one is a path search.
    for module in sorted({patch.target.partition(":")[0] for patch in patches}):
        source = _module_file(module)
        if source is None:
            found.update(b"\0missing")
        else:
            stat = source.stat()
            found.update(f"\0{source}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return found.hexdigest()


def problems_unless_stamped(
    patches: Iterable[Patch], check: Callable[[], list[str]], cache: Path | None = None
) -> list[str]:
    """``check()``'s problems, or none when these patches' stamp is there; a clean check leaves the stamp."""
    cache = CACHE if cache is None else cache
    stamp = cache / f"{PREFIX}{digest(patches)}"
    if stamp.exists():
        return []
    found = check()
    if not found:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            for stale in cache.glob(f"{PREFIX}*"):
                if stale != stamp:  # another worker may be stamping the same digest
                    stale.unlink(missing_ok=True)
            stamp.touch()
        except OSError:
            pass  # a read-only checkout checks at every start
    return found
