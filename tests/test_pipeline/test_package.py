"""Reproducible packaging: the same files give the same bytes whatever their mtimes, order or caches."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from pipeline import package
from pipeline.config import ROOT
from pipeline.errors import UserError


def _copy_lambda(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / "lambda", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_same_code_gives_identical_bytes_after_mtimes_change(tmp_path):
    first = _copy_lambda(tmp_path, "a")
    second = _copy_lambda(tmp_path, "b")
    for path in second.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"cache")
    a, b = package.build(first), package.build(second)
    assert a.body == b.body
    assert a.key == b.key == f"artifacts/{a.sha256}.zip"


def test_entries_are_sorted_with_fixed_dates_and_permissions(tmp_path):
    code = _copy_lambda(tmp_path, "code")
    (code / "zz.py").write_text("x = 1\n")
    (code / "aa.sh").write_text("#!/bin/sh\n")
    (code / "aa.sh").chmod(0o755)
    archive = zipfile.ZipFile(io.BytesIO(package.build(code).body))
    names = archive.namelist()
    assert names == sorted(names)
    assert "handler.py" in names
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        expected = 0o755 if info.filename == "aa.sh" else 0o644
        assert (info.external_attr >> 16) & 0o777 == expected


def test_changed_code_changes_the_key(tmp_path):
    code = _copy_lambda(tmp_path, "code")
    before = package.build(code)
    (code / "handler.py").write_text((code / "handler.py").read_text() + "\n# changed\n")
    assert package.build(code).key != before.key


def test_code_sha256_is_lambdas_base64_digest(tmp_path):
    import base64
    import hashlib

    artifact = package.build(_copy_lambda(tmp_path, "code"))
    assert artifact.code_sha256 == base64.b64encode(hashlib.sha256(artifact.body).digest()).decode()


def test_missing_handler_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match=r"handler\.py is missing"):
        package.build(tmp_path)


def test_upload_skips_a_key_that_is_already_there(client, tmp_path):
    s3 = client("s3")
    s3.create_bucket(Bucket="package-test-artifacts")
    artifact = package.build(_copy_lambda(tmp_path, "code"))
    puts = []
    s3.meta.events.register("before-call.s3.PutObject", lambda **kw: puts.append(kw))
    first = package.upload(s3, "package-test-artifacts", artifact)
    second = package.upload(s3, "package-test-artifacts", artifact)
    assert (first.uploaded, second.uploaded) == (True, False)
    assert len(puts) == 1
    body = s3.get_object(Bucket="package-test-artifacts", Key=artifact.key)["Body"].read()
    assert body == artifact.body
