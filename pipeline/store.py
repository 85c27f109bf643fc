"""Write-once, checksum-verified objects in the artifact bucket: code zips and templates, named by their SHA-256.

A content-addressed key is trusted only when the object under it has exactly the bytes the name says: its stored
SHA-256 (HeadObject with ChecksumMode=ENABLED, which S3 checked against the body when it was written) must equal
the one computed here. Anything else under the key was planted, or is corrupt: the deploy stops there, naming
the key, and deploys nothing. Writes never overwrite (``If-None-Match: *``; the bootstrap's bucket policy denies
any write of these keys without it), and the version written is returned so the template can pin it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import botocore.exceptions

from pipeline.errors import UserError


class Tampered(UserError):
    """The object under a content-addressed key is not the bytes its name says."""


@dataclass(frozen=True)
class Stored:
    bucket: str
    key: str
    uploaded: bool  # False when the key already held these exact bytes
    version_id: str | None  # None in an unversioned bucket


def sha256_b64(body: bytes) -> str:
    """SHA-256 as S3's ChecksumSHA256 and Lambda's CodeSha256 write it: base64."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _head(s3, bucket: str, key: str) -> dict | None:
    try:
        return s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return None
        if _code(exc) in ("403", "AccessDenied"):
            raise UserError(
                f"Access denied reading s3://{bucket}/{key}. The deploy role needs s3:GetObject and "
                "s3:ListBucket on the artifact bucket; re-run `invoke bootstrap` to restore them."
            ) from exc
        raise


def check(bucket: str, key: str, head: dict, expected: str) -> None:
    """Refuse an existing object whose stored SHA-256 is missing or is not ``expected`` (base64)."""
    stored = head.get("ChecksumSHA256")
    if stored == expected:
        return
    found = f"SHA-256 {stored}" if stored else "no SHA-256 checksum, so its bytes cannot be verified"
    raise Tampered(
        f"TAMPERED ARTIFACT: s3://{bucket}/{key} already exists with {found}, but the build's SHA-256 is "
        f"{expected}. Someone wrote that key outside this pipeline, or it is corrupt; nothing was deployed. "
        f"Find out who (its versions: `aws s3api list-object-versions --bucket {bucket} --prefix {key}`, and "
        "CloudTrail), have an admin delete every version of it, and deploy again."
    )


def put_once(s3, bucket: str, key: str, body: bytes, content_type: str) -> Stored:
    """Store ``body`` under ``key`` unless that key already holds exactly these bytes; never overwrite."""
    expected = sha256_b64(body)
    head = _head(s3, bucket, key)
    if head is None:
        try:
            written = s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumSHA256=expected,
                IfNoneMatch="*",
            )
            return Stored(bucket, key, uploaded=True, version_id=written.get("VersionId"))
        except botocore.exceptions.ClientError as exc:
            # Someone wrote the key between our HeadObject and PutObject: judge what they wrote.
            if _code(exc) not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                raise
            head = _head(s3, bucket, key)
            if head is None:
                raise
    check(bucket, key, head, expected)
    return Stored(bucket, key, uploaded=False, version_id=head.get("VersionId"))


def _named_sha256(key: str) -> str:
    """The base64 SHA-256 a content-addressed key (PREFIX/<64 hex>.EXT) names."""
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    try:
        return base64.b64encode(bytes.fromhex(stem)).decode() if len(stem) == 64 else ""
    except ValueError:
        return ""


def check_named(s3, bucket: str, key: str, version_id: str | None = None) -> None:
    """An object (that version, if given) must hold the bytes its content-addressed key names."""
    try:
        extra = {"VersionId": version_id} if version_id else {}
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **extra)
    except botocore.exceptions.ClientError as exc:
        raise UserError(
            f"s3://{bucket}/{key} cannot be read ({_code(exc)}), so it cannot be checked or deployed."
        ) from exc
    check(bucket, key, head, _named_sha256(key) or "(not a content-addressed key)")


def check_named_body(bucket: str, key: str, body: bytes) -> None:
    """Bytes read back from a content-addressed key must be the ones it names."""
    check(bucket, key, {"ChecksumSHA256": sha256_b64(body)}, _named_sha256(key) or "(not a content-addressed key)")
