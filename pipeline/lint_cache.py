"""The lint result cache: a check's result is kept under a digest of everything that decides it.

The digest (the key) covers the check's command line, the content of every file it reads, and the identity of
the tools it runs (each distribution's version and the digest of its installed-files record, and the versions
of everything installed beside them), as pre-commit keys its environments. So an unchanged checkout is not
linted again, while a changed file or an upgraded tool makes a new key and the old result is never used.
Entries live in the checkout (``.cache/lint/``, ignored by git), one small JSON file per key, written
atomically. An entry that cannot be read, or that does not match its key, is deleted and the check runs again:
a corrupt cache is rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

FORMAT = 1  # bump when the entry layout or the key's recipe changes
KEEP_PER_CHECK = 8  # entries kept per check, so switching branches back and forth still hits
# Used when the checkout is not a git work tree: folders no check reads.
SKIPPED_DIRS = {".git", ".venv", "venv", "__pycache__", ".cache", ".ruff_cache", ".pytest_cache", ".localcloud"}


@dataclass(frozen=True)
class Entry:
    ok: bool
    output: str
    seconds: float


def project_files(root: Path) -> list[str]:
    """The checkout's files (relative, POSIX): what git tracks or would track, else a walk that skips caches."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        )
        listed = [name for name in done.stdout.decode().split("\0") if name]
        return sorted(name for name in listed if (root / name).is_file())  # a deleted tracked file is not read
    except (OSError, subprocess.CalledProcessError):
        return sorted(_walk(root))


def _walk(root: Path) -> Iterable[str]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            yield Path(folder, name).relative_to(root).as_posix()


def matching(files: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """The files matching any pattern; ``*`` crosses folders (``*.py`` is every Python file)."""
    patterns = tuple(patterns)
    return [name for name in files if any(fnmatch.fnmatchcase(name, p) for p in patterns)]


def tool_identity(distribution: str) -> str:
    """Version plus a digest of the installed files' record: an upgrade or a reinstall changes it."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"
    record = dist.read_text("RECORD") or ""
    return f"{dist.version} {hashlib.sha256(record.encode()).hexdigest()[:16]}"


def environment_identity() -> str:
    """Every installed distribution and its version: a tool's upgraded dependency changes its verdict too.

    Read from the ``<name>-<version>.dist-info`` folder names, which is one directory listing per path entry.
    """
    found = []
    for entry in sys.path:
        with contextlib.suppress(OSError):
            found += [f"{entry}/{n}" for n in os.listdir(entry or ".") if n.endswith((".dist-info", ".egg-info"))]
    return hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()


def key(name: str, command: Iterable[str], root: Path, inputs: Iterable[str], tools: Iterable[str]) -> str:
    digest = hashlib.sha256()
    recipe = {
        "format": FORMAT,
        "check": name,
        "command": list(command),
        "python": sys.version,
        "environment": environment_identity(),
        "tools": {tool: tool_identity(tool) for tool in sorted(tools)},
    }
    digest.update(json.dumps(recipe, sort_keys=True).encode())
    for relative in sorted(inputs):
        digest.update(b"\0" + relative.encode() + b"\0")
        digest.update(hashlib.sha256((root / relative).read_bytes()).digest())
    return digest.hexdigest()


class Cache:
    """Entries under ``folder/<check>/<key>.json``."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, name: str, digest: str) -> Path:
        slug = "".join(ch if ch.isalnum() else "-" for ch in name)
        return self.folder / slug / f"{digest}.json"

    def get(self, name: str, digest: str) -> Entry | None:
        path = self._path(name, digest)
        try:
            data = json.loads(path.read_text())
            if data["format"] != FORMAT or data["key"] != digest or data["check"] != name:
                raise ValueError("entry does not match its key")
            entry = Entry(ok=data["ok"], output=data["output"], seconds=data["seconds"])
            if not (isinstance(entry.ok, bool) and isinstance(entry.output, str) and _is_number(entry.seconds)):
                raise ValueError("entry has the wrong types")
            return entry
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):  # corrupt: drop it and run the check again
            path.unlink(missing_ok=True)
            return None

    def put(self, name: str, digest: str, entry: Entry) -> None:
        path = self._path(name, digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "key": digest, "check": name, **entry.__dict__}
        # Write then rename: a concurrent `invoke lint` or a crash never leaves a half-written entry.
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.replace(temporary, path)
        self._prune(path.parent)

    @staticmethod
    def _prune(folder: Path) -> None:
        dated = []
        for entry in folder.glob("*.json"):
            with contextlib.suppress(FileNotFoundError):  # another process pruned it first
                dated.append((entry.stat().st_mtime, entry))
        for _, old in sorted(dated, reverse=True)[KEEP_PER_CHECK:]:
            old.unlink(missing_ok=True)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
