"""What a function can import: only what the AWS Python runtime provides, never the developer's venv.

AWS: a Python function imports from its own deployment package (``/var/task``), the runtime's interface client
(``awslambdaric``) and the SDK the managed runtime bundles (``boto3``/``botocore`` and their dependencies), plus
the standard library. Anything else must be vendored in the zip, or the function fails at init with
``Runtime.ImportModuleError``.

Gap: a worker started as ``python -m awslambdaric`` from the venv sees every package installed there (yaml,
requests, moto...), so a missing ``requirements.txt`` entry would work locally and fail on AWS.

Here: ``build()`` makes, once per local cloud, a directory of symlinks to exactly the top-level packages and
modules (and their ``.dist-info``, so ``importlib.metadata`` answers as on AWS) of ``awslambdaric`` and ``boto3``
and everything they require, transitively. ``command()`` starts the worker isolated (``-I``: no ``PYTHON*``
variables, no user site, no script directory; ``-S``: no site-packages) with a bootstrap that puts the code
directory and that directory on ``sys.path`` and runs ``awslambdaric`` as ``-m`` would.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import re
import sys
from pathlib import Path

log = logging.getLogger("localcloud")

# The distributions the AWS Python runtime provides; their requirements are followed transitively.
RUNTIME_DISTRIBUTIONS = ("awslambdaric", "boto3")

# sys.argv is ["-c", code_dir, packages_dir, handler]. `site` is imported only for what it gives every program
# (exit, quit, help...): under -S it adds no path. -u because -I also ignores PYTHONUNBUFFERED.
BOOTSTRAP = (
    "import runpy, site, sys; site.setquit(); site.setcopyright(); site.sethelper(); "
    "sys.path[:0] = sys.argv[1:3]; sys.argv = ['awslambdaric', sys.argv[3]]; "
    "runpy.run_module('awslambdaric', run_name='__main__', alter_sys=True)"
)

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def command(handler: str, code_dir: str, packages_dir: str) -> list[str]:
    """The worker's argv: an isolated interpreter that sees the code, then the runtime's packages, then stdlib."""
    return [sys.executable, "-I", "-S", "-u", "-c", BOOTSTRAP, code_dir, packages_dir, handler]


def build(target: str, roots: tuple[str, ...] = RUNTIME_DISTRIBUTIONS) -> str:
    """Fill ``target`` (created) with symlinks to the runtime's top-level packages and modules; return it."""
    os.makedirs(target, exist_ok=True)
    for name, source in _entries(roots):
        _link(Path(source), Path(target) / name)
    return target


@functools.cache
def _entries(roots: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(top-level name, path) for every file tree the distributions ``roots`` and their requirements install."""
    entries: dict[tuple[str, str], None] = {}
    for dist in _closure(roots):
        for name in _top_level(dist):
            entries[(name, str(dist.locate_file(name)))] = None
    return tuple(entries)


def _closure(roots: tuple[str, ...]) -> list[importlib.metadata.Distribution]:
    seen: set[str] = set()
    found: list[importlib.metadata.Distribution] = []
    pending = list(roots)
    while pending:
        name = _normalize(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            if name in map(_normalize, roots):
                log.warning("%s is not installed: Lambda functions will fail to start", name)
            continue  # an optional requirement nobody installed: the runtime does without it too
        found.append(dist)
        pending.extend(_requirements(dist))
    return found


def _requirements(dist: importlib.metadata.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or []:
        spec, _, marker = requirement.partition(";")
        if marker and not _marker_holds(marker):
            continue
        match = _NAME.match(spec)
        if match:
            names.append(match.group(1))
    return names


def _marker_holds(marker: str) -> bool:
    if "extra" in marker:
        return False  # no extras are asked for
    try:
        from packaging.markers import InvalidMarker, Marker
    except ImportError:
        return True  # cannot tell: an unneeded package is a smaller error than a missing one
    try:
        return Marker(marker.strip()).evaluate()
    except (InvalidMarker, ValueError):
        return True


def _top_level(dist: importlib.metadata.Distribution) -> list[str]:
    """The names a distribution installs at the top of site-packages (packages, modules, its .dist-info)."""
    names: dict[str, None] = {}
    for path in _installed_files(dist):
        head = path.split("/", 1)[0]
        if head in ("", "..", "__pycache__") or head.endswith(".pth"):
            continue  # "" is an absolute path, ".." a script in bin/: neither is importable
        names[head] = None
    if names:
        return list(names)
    # No file list (a legacy install): top_level.txt names the importable ones; look for what they are on disk.
    for module in (dist.read_text("top_level.txt") or "").split():
        base = Path(dist.locate_file(module))
        for candidate in (base, *base.parent.glob(f"{base.name}.*")):
            if candidate.is_dir() or candidate.suffix in (".py", ".so", ".pyd"):
                names[candidate.name] = None
    return list(names)


def _installed_files(dist: importlib.metadata.Distribution) -> list[str]:
    record = dist.read_text("RECORD")
    if record is not None:  # read directly: ``dist.files`` builds a path object per file (botocore has thousands)
        return [line.split(",", 1)[0].strip('"') for line in record.splitlines()]
    return [path.as_posix() for path in dist.files or []]


def _link(source: Path, link: Path) -> None:
    if not source.exists() or (link.is_symlink() and link.resolve() == source.resolve()):
        return
    if not link.exists() and not link.is_symlink():
        link.symlink_to(source, target_is_directory=source.is_dir())
        return
    if source.is_dir() and link.is_dir():  # two distributions share a namespace package: merge them
        if link.is_symlink():
            first = link.resolve()
            link.unlink()
            link.mkdir()
            for child in first.iterdir():
                _link(child, link / child.name)
        for child in source.iterdir():
            _link(child, link / child.name)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
