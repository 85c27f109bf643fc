"""Stamps that a start-up check passed against these exact files, so a start can trust it without redoing it.

The local cloud must refuse to *start*, not fail a later request, when its patches or deferrals no longer fit the
installed packages. Two of those checks cost a noticeable part of a cold start, so a successful one is stamped in
``.cache/localcloud/`` (in the checkout, ignored by git) under a digest of what was checked (the declarations)
and of each file it read (path, size, modification time). A start with the same digest trusts the stamp. A
reinstalled or edited package, or an edited manifest, gives another digest, and the next start checks again.

- The deferred fixes' targets (``problems_unless_stamped``): the local cloud imports moto's Lambda, Logs and IAM
  only at their first use (``localcloud.fixes.apply_deferred``), and checking their targets means importing
  those modules, about a fifth of a cold start.
- The deferred packages (``lazy_unless_stamped``): checking each declaration and finding the names whose use
  runs the real ``__init__`` (``localcloud.lazy_packages``) parses the packages' sources; the stamp keeps the
  names found, so a stamped start reads no source at all.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localcloud.lazy_packages import LazyPackage
    from localcloud.patches import Patch

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "localcloud"
PREFIX = "deferred-patches-"
LAZY_PREFIX = "lazy-packages-"


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


def _digest(declared: Iterable[object], files: Iterable[Path | None]) -> str:
    found = hashlib.sha256()
    for item in declared:
        found.update(repr(item).encode())
    for source in files:
        if source is None:
            found.update(b"\0missing")
        else:
            stat = source.stat()
            found.update(f"\0{source}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return found.hexdigest()


def digest(patches: Iterable[Patch]) -> str:
    patches = tuple(patches)
    # Each module once: many patches share a target module, and finding one is a path search.
    modules = sorted({patch.target.partition(":")[0] for patch in patches})
    return _digest(patches, (_module_file(module) for module in modules))


def lazy_digest(declared: Iterable[LazyPackage]) -> str:
    """The declarations, and every file beside each deferred ``__init__`` (its siblings give constants and
    submodules), or the deferred module's own file."""
    declared = tuple(declared)
    files: list[Path | None] = []
    for package in declared:
        source = _module_file(package.package)
        if source is not None and source.name == "__init__.py":
            with os.scandir(source.parent) as entries:
                files.extend(sorted(Path(entry.path) for entry in entries if entry.name.endswith(".py")))
        else:
            files.append(source)
    return _digest(declared, files)


def _unless_stamped(
    prefix: str, digest_: str, check: Callable[[], tuple[list[str], Any]], cache: Path | None
) -> tuple[list[str], Any]:
    """``check()``'s problems and result, or the stamped result; a clean check leaves its result as the stamp."""
    cache = CACHE if cache is None else cache
    stamp = cache / f"{prefix}{digest_}"
    try:
        return [], json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    found, result = check()
    if not found:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            for stale in cache.glob(f"{prefix}*"):
                if stale != stamp:  # another worker may be stamping the same digest
                    stale.unlink(missing_ok=True)
            partial = stamp.with_name(f".{stamp.name}.{os.getpid()}")
            partial.write_text(json.dumps(result), encoding="utf-8")
            partial.replace(stamp)  # a reader sees a whole stamp or none
        except OSError:
            pass  # a read-only checkout checks at every start
    return found, result


def problems_unless_stamped(
    patches: Iterable[Patch], check: Callable[[], list[str]], cache: Path | None = None
) -> list[str]:
    """``check()``'s problems, or none when these patches' stamp is there; a clean check leaves the stamp."""
    patches = tuple(patches)
    return _unless_stamped(PREFIX, digest(patches), lambda: (check(), None), cache)[0]


def lazy_unless_stamped(
    declared: Iterable[LazyPackage], check: Callable[[], tuple[list[str], Any]], cache: Path | None = None
) -> tuple[list[str], Any]:
    """``check()``'s problems and what it resolved, or what the stamp of these same declarations and files kept."""
    declared = tuple(declared)
    return _unless_stamped(LAZY_PREFIX, lazy_digest(declared), check, cache)
