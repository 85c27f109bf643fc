"""S3 keeps and checks the checksum a client sends with an upload, whichever way the client sends it.

AWS behaviour: PutObject (and UploadPart) take a checksum either as ``x-amz-sdk-checksum-algorithm`` plus its
value, or as a bare ``x-amz-checksum-<algorithm>`` header (what boto3 sends for ``ChecksumSHA256=...``). S3
computes the checksum of the bytes it received; a value that does not match fails with 400 BadDigest "The SHA256
you specified did not match the calculated checksum." and stores nothing. The stored checksum is returned by
HeadObject/GetObject with ``ChecksumMode=ENABLED`` (checksums are how a client tells what bytes it holds).

moto gap (5.2.5, ``S3Response._get_checksum``): only ``x-amz-sdk-checksum-algorithm`` is read, so an object
uploaded with a bare ``x-amz-checksum-sha256`` header keeps no checksum (HeadObject returns none), and a value
that does not match the body is stored as given, never checked.

This fix wraps ``_get_checksum``: the algorithm is also taken from a bare checksum header, and the value is
checked against the body for the algorithms moto computes exactly (CRC32, SHA1, SHA256; its CRC32C and
CRC64NVME fall back to CRC32 without optional libraries, so those are kept unchecked).
"""

from __future__ import annotations

import functools
from typing import Any

from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from moto.s3.utils import compute_checksum

from localcloud.patches import install

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
VERIFIABLE = ("CRC32", "SHA1", "SHA256")


class BadDigest(S3ClientError):
    code = "BadDigest"

    def __init__(self, algorithm: str) -> None:
        super().__init__("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")


def bare_checksum(headers: Any) -> tuple[str, str] | None:
    """The (algorithm, value) of an ``x-amz-checksum-<algorithm>`` header, when the request has one."""
    for algorithm in ALGORITHMS:
        value = headers.get(f"x-amz-checksum-{algorithm.lower()}")
        if value:
            return algorithm, value
    return None


def check_digest(algorithm: str, value: str | None, body: bytes) -> None:
    """Raise BadDigest when ``value`` is not ``algorithm``'s checksum of ``body`` (S3's own check)."""
    if value and algorithm in VERIFIABLE and compute_checksum(body, algorithm=algorithm).decode() != value:
        raise BadDigest(algorithm)


def _wrap_get_checksum(original: Any) -> Any:
    @functools.wraps(original)
    def _get_checksum(self: S3Response, response_headers: dict[str, Any]) -> tuple[str, str | None]:
        algorithm, value = original(self, response_headers)
        if not algorithm and (bare := bare_checksum(self.headers)):
            algorithm, value = bare
            response_headers[f"x-amz-checksum-{algorithm.lower()}"] = value
        check_digest(algorithm, value, self.body or b"")
        return algorithm, value

    return _get_checksum


def apply() -> None:
    install(S3Response, "_get_checksum", _wrap_get_checksum(S3Response._get_checksum))
