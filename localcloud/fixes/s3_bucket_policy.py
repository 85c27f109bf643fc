"""S3 bucket policies: evaluate conditions the way AWS does, so a TLS-only policy does not deny everything.

AWS behaviour: a policy statement applies only when all of its conditions hold; a Deny that applies wins, then an
Allow. The usual hardening statement ``Deny s3:* when Bool aws:SecureTransport = false`` therefore denies plain
HTTP requests only.

moto gap (5.2.5, ``FakeBucket.get_permission`` -> ``moto.iam.access_control.IAMPolicyStatement``): conditions
with an unsupported operator such as ``Bool`` count as matched, and a statement whose conditions fail is treated
as a Deny whatever its Effect. So that one hardening statement makes every object request return 403.

Conditional writes: the request's ``If-None-Match``/``If-Match`` headers are the condition keys
``s3:if-none-match``/``s3:if-match``, and ``s3:ObjectCreationOperation`` is true for the requests that create an
object (PutObject, CopyObject, CompleteMultipartUpload) and false for CreateMultipartUpload, UploadPart and
UploadPartCopy, which take no conditional headers (S3 User Guide, "Enforce conditional writes on Amazon S3
buckets": ``Deny s3:PutObject`` with ``Null s3:if-none-match = true`` and ``Bool s3:ObjectCreationOperation =
true`` refuses every upload that could overwrite). moto checks every multipart call as ``s3:PostObject``, an
action S3 does not have; they are all ``s3:PutObject`` in S3. A denied object request is 403 AccessDenied with
an XML body, where moto answers 403 with an empty one.

This fix replaces ``FakeBucket.get_permission`` with an evaluator for the operators bucket policies commonly use,
and wraps ``S3Response._key_response`` to give it each object request's context (a thread-local: moto serves
each request on one thread). The local cloud listens on loopback without TLS; its requests never leave the
machine, so they are evaluated with ``aws:SecureTransport = true``, which is what the same request through an
AWS SDK (HTTPS) would carry.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from moto.s3.exceptions import S3ClientError
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from localcloud.patches import install

if TYPE_CHECKING:
    from moto.iam.access_control import PermissionResult

# Request context of every call to the local cloud (see the module docstring).
REQUEST_CONTEXT = {"aws:securetransport": "true"}
_request = threading.local()  # .context: the context of the object request this thread is serving


class AccessDenied(S3ClientError):
    code = "AccessDenied"

    def __init__(self) -> None:
        super().__init__("AccessDenied", "Access Denied")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, str(p).replace("?", "[?]")) for p in _as_list(patterns))


def _operator_holds(operator: str, expected: Any, actual: str | None) -> bool:
    if operator == "Null":  # "true": the key must be absent; "false": present
        return all((actual is None) == (str(v).lower() == "true") for v in _as_list(expected))
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if actual is None:
        return if_exists or operator.startswith(("StringNot", "ArnNot"))
    wanted = [str(v).lower() if operator == "Bool" else str(v) for v in _as_list(expected)]
    checks = {
        "Bool": lambda: actual.lower() in wanted,
        "StringEquals": lambda: actual in wanted,
        "StringNotEquals": lambda: actual not in wanted,
        "StringLike": lambda: _glob(wanted, actual),
        "StringNotLike": lambda: not _glob(wanted, actual),
        "ArnLike": lambda: _glob(wanted, actual),
        "ArnEquals": lambda: _glob(wanted, actual),
        "ArnNotLike": lambda: not _glob(wanted, actual),
    }
    check = checks.get(operator)
    return check() if check else False  # an operator we can't evaluate never makes a statement apply


def _conditions_hold(conditions: dict[str, dict[str, Any]]) -> bool:
    context = getattr(_request, "context", None) or REQUEST_CONTEXT
    return all(
        _operator_holds(operator, expected, context.get(key.lower()))
        for operator, entries in conditions.items()
        for key, expected in entries.items()
    )


def _principal_matches(principal: Any) -> bool:
    """The local cloud's caller is the account itself: it matches ``*`` and the account's own principals."""
    if principal is None or principal == "*":
        return True
    if isinstance(principal, dict):
        return any(
            value == "*" or ":root" in str(value) or str(value).isdigit()
            for value in _as_list(principal.get("AWS", []))
        )
    return False


def _statement_applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "NotAction" in statement:
        action_matches = not _glob(statement["NotAction"], action)
    else:
        action_matches = _glob(statement.get("Action", []), action)
    if "NotResource" in statement:
        resource_matches = not _glob(statement["NotResource"], resource)
    else:
        resource_matches = _glob(statement.get("Resource", "*"), resource)
    return (
        action_matches
        and resource_matches
        and _principal_matches(statement.get("Principal"))
        and _conditions_hold(statement.get("Condition", {}))
    )


def evaluate(policy: dict[str, Any], action: str, resource: str) -> PermissionResult:
    from moto.iam.access_control import PermissionResult  # imports moto's IAM: only once a policy is evaluated

    applying = [s for s in _as_list(policy.get("Statement", [])) if _statement_applies(s, action, resource)]
    if any(s.get("Effect") == "Deny" for s in applying):
        return PermissionResult.DENIED
    if any(s.get("Effect") == "Allow" for s in applying):
        return PermissionResult.PERMITTED
    return PermissionResult.NEUTRAL


def _get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        from moto.iam.access_control import PermissionResult

        return PermissionResult.NEUTRAL
    if action == "s3:PostObject":  # moto's name for the multipart calls: S3 authorizes them as s3:PutObject
        action = "s3:PutObject"
    return evaluate(json.loads(self.policy), action, resource)


def object_request_context(method: str, headers: Any, query: dict[str, Any]) -> dict[str, str]:
    """The condition keys of one object request, beyond ``REQUEST_CONTEXT``."""
    context = dict(REQUEST_CONTEXT)
    for header in ("If-None-Match", "If-Match"):
        if headers.get(header) is not None:
            context[f"s3:{header.lower()}"] = headers[header]
    if method in ("PUT", "POST"):
        part_or_start = "partNumber" in query or ("uploads" in query and "uploadId" not in query)
        context["s3:objectcreationoperation"] = "false" if part_or_start else "true"
    return context


def _wrap_key_response(original: Any) -> Any:
    @functools.wraps(original)
    def _key_response(self: S3Response, request: Any, full_url: str) -> Any:
        query = parse_qs(urlparse(full_url).query, keep_blank_values=True)
        _request.context = object_request_context(request.method, request.headers, query)
        try:
            response = original(self, request, full_url)
        finally:
            _request.context = None
        if response == (403, {}, ""):  # moto's answer to a bucket policy's deny
            raise AccessDenied()
        return response

    return _key_response


def apply() -> None:
    install(FakeBucket, "get_permission", _get_permission)
    install(S3Response, "_key_response", _wrap_key_response(S3Response._key_response))
