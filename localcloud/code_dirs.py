"""The temp directory each local cloud keeps its Lambda code in, and the removal of those that dead runs left.

A local cloud extracts every function's zip (and links the runtime's packages) under one directory, removed when
it stops. A run that is killed (kill -9, a crash, a closed terminal) cannot remove it: one such kill left 191 MB.
So each directory holds a lock file, locked (flock) for as long as its local cloud runs; the kernel releases the
lock when the process dies, however it dies. Every start removes the directories whose lock it can take, which
are exactly those whose owner is gone, and never touches one whose owner still runs (a reused pid does not
matter).
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import tempfile
from dataclasses import dataclass

PREFIX = "localcloud-lambda-"
LOCK = ".owner.lock"


@dataclass
class CodeDir:
    path: str
    _lock_fd: int

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)  # links go, never what they point to
        os.close(self._lock_fd)


def _abandoned(path: str) -> bool:
    try:
        fd = os.open(os.path.join(path, LOCK), os.O_RDONLY)
    except OSError:
        return False  # not one of ours yet (still being made) or not ours at all: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its local cloud is running
    finally:
        os.close(fd)
    return True


def remove_abandoned(root: str | None = None) -> list[str]:
    """Remove the code directories of local clouds that are no longer running; returns what was removed."""
    removed = []
    for path in glob.glob(os.path.join(root or tempfile.gettempdir(), PREFIX + "*")):
        if os.path.isdir(path) and _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def claim(root: str | None = None) -> CodeDir:
    """A new code directory, locked for the life of this process (or until ``remove()``)."""
    path = tempfile.mkdtemp(prefix=PREFIX, dir=root)
    # Locked before it gets its final name, so no other start can see it unlocked.
    staging = os.path.join(path, LOCK + ".new")
    fd = os.open(staging, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(staging, os.path.join(path, LOCK))
    return CodeDir(path, fd)
