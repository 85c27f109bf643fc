"""Where a template comes from: the request's TemplateBody, a TemplateURL the engine reads from the local S3
backend itself, or the stack's previous template.

AWS behaviour: an inline ``TemplateBody`` is limited to 51,200 bytes ("Member must have length less than or
equal to 51200"); a ``TemplateURL`` names an S3 object, path-style (``https://s3.<region>.amazonaws.com/b/k``)
or virtual-hosted (``https://b.s3.<region>.amazonaws.com/k``), up to 1 MB. Against the local cloud, any
loopback host (``127.0.0.1``, ``localhost``, ``::1``) is read path-style, which is what ``aws cloudformation
deploy --s3-bucket``, ``sam deploy`` and presigned URLs send. (moto reads a URL path-style only when its host
says ``localhost``.)
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from typing import Any

from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from localcloud.cloudformation.errors import ValidationError

INLINE_LIMIT = 51_200
URL_LIMIT = 1_000_000
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$")
_PATH_HOST = re.compile(r"^s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$")


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bucket_and_key(url: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) named by an S3 template URL."""
    parsed = urllib.parse.urlparse(url)
    host = (parsed.hostname or "").lower()
    path = urllib.parse.unquote(parsed.path.lstrip("/"))
    version = urllib.parse.parse_qs(parsed.query).get("versionId", [None])[0]
    virtual = _VIRTUAL_HOST.match(host)
    if virtual:
        return virtual.group("bucket"), path, version
    if host.endswith(".localhost") and host != "localhost":
        return host.removesuffix(".localhost"), path, version
    if _loopback(host) or _PATH_HOST.match(host):
        bucket, _, key = path.partition("/")
        if bucket and key:
            return bucket, key, version
    raise ValidationError("TemplateURL must be a supported URL.")


def read_url(url: str, account_id: str, region: str) -> str:
    bucket, key, version = bucket_and_key(url)
    backend = s3_backends[account_id][get_partition(region)]
    if bucket not in backend.buckets:
        raise ValidationError("S3 error: The specified bucket does not exist")
    try:
        found = backend.get_object(bucket, key, version_id=version)
    except Exception:  # an unknown version
        found = None
    if found is None:
        raise ValidationError("S3 error: The specified key does not exist.")
    if found.size > URL_LIMIT:
        raise ValidationError(f"Template may not exceed {URL_LIMIT} bytes in size.")
    return found.value.decode("utf-8")


def template_body(params: dict[str, Any], account_id: str, region: str, previous: str | None = None) -> str:
    """The template text a request names (TemplateBody, TemplateURL or UsePreviousTemplate)."""
    if params.get("UsePreviousTemplate"):
        if not previous:
            raise ValidationError("UsePreviousTemplate needs an existing stack with a template")
        return previous
    body = params.get("TemplateBody")
    if body is not None:
        if len(body.encode()) > INLINE_LIMIT:
            raise ValidationError(
                "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
                f"Member must have length less than or equal to {INLINE_LIMIT}"
            )
        return body
    if params.get("TemplateURL"):
        return read_url(params["TemplateURL"], account_id, region)
    raise ValidationError("Either Template URL or Template Body must be specified.")
