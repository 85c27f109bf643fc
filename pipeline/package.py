"""Reproducible packaging of ``lambda/`` and its content-addressed upload.

The zip is a pure function of the files' names, bytes and executable bits: entries sorted, every timestamp
1980-01-01, permissions 0644/0755, one compression setting, no caches. The same commit therefore gives the same
bytes in any clone, the key ``<prefix>/<sha256>.zip`` names the content, and an unchanged function means an
unchanged template parameter, which is what lets a redeploy be a true no-op. Packages from
``lambda/requirements.txt`` are vendored by ``pipeline/vendor.py`` (uv, else pip: the same bytes either way).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline import store, vendor
from pipeline.errors import UserError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")
SKIP_NAMES = {".DS_Store", "requirements.txt"}


@dataclass(frozen=True)
class Artifact:
    """A built zip: its bytes and the names that identify it."""

    body: bytes
    sha256: str  # hex, used in the key
    code_sha256: str  # base64, as Lambda reports CodeSha256
    key: str
    note: str = ""  # one line for the user when vendoring fell back from uv to pip

    @property
    def size(self) -> int:
        return len(self.body)


@dataclass(frozen=True)
class Upload:
    bucket: str
    key: str
    uploaded: bool  # False when the key already held these exact bytes
    version_id: str | None = None  # the object version the template pins (None: an unversioned bucket)


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in filenames:
            if name in SKIP_NAMES or name.endswith(SKIP_SUFFIXES):
                continue
            path = Path(dirpath, name)
            yield path.relative_to(root).as_posix(), path


def _entry(name: str, path: Path) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.create_system = 3  # Unix, so the permission bits below are honoured everywhere
    mode = 0o755 if os.access(path, os.X_OK) else 0o644
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zip_tree(*roots: Path) -> bytes:
    """Zip the files under ``roots`` (later roots win on name clashes) into deterministic bytes."""
    entries: dict[str, Path] = {}
    for root in roots:
        entries.update(dict(_files(root)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            archive.writestr(_entry(name, entries[name]), entries[name].read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build(lambda_dir: Path, prefix: str = "artifacts") -> Artifact:
    """Build the function's zip; packages from ``lambda/requirements.txt`` are vendored into it."""
    if not (lambda_dir / "handler.py").is_file():
        raise UserError(f"{lambda_dir / 'handler.py'} is missing: the function's code must live there.")
    requirements = lambda_dir / "requirements.txt"
    note = ""
    if requirements.is_file() and requirements.read_text().strip():
        with tempfile.TemporaryDirectory() as vendored:
            note = vendor.install(requirements, Path(vendored))
            body = zip_tree(Path(vendored), lambda_dir)
    else:
        body = zip_tree(lambda_dir)
    digest = hashlib.sha256(body).digest()
    return Artifact(
        body=body,
        sha256=digest.hex(),
        code_sha256=base64.b64encode(digest).decode(),
        key=f"{prefix}/{digest.hex()}.zip",
        note=note,
    )


def upload(s3, bucket: str, artifact: Artifact) -> Upload:
    """Upload unless the key already holds these exact bytes; a different object there stops the deploy."""
    stored = store.put_once(s3, bucket, artifact.key, artifact.body, "application/zip")
    return Upload(bucket, artifact.key, uploaded=stored.uploaded, version_id=stored.version_id)
