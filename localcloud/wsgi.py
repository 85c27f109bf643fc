"""The local cloud's WSGI stack: its own endpoints, then S3 without Flask (``localcloud.s3_app``), or moto's dispatcher.

``/_localcloud/identity`` answers who this server is, so a client can tell the local cloud from anything else
listening on its port (LocalStack's default port is the same 4566) and from another checkout's local cloud:
``{"product": "localcloud", "version", "checkout" (the repository root it runs from), "pid", "accounts"}``, where
"accounts" says how a request's account is chosen, as moto chooses it: 123456789012 unless the ``x-moto-account-id``
header names another (an access key this local cloud's IAM issued answers in its own account; ``MOTO_ACCOUNT_ID``
in the server's environment fixes one for every request). Any other access key is the default account's.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from localcloud import __version__

IDENTITY_PATH = "/_localcloud/identity"
DEFAULT_ACCOUNT = "123456789012"  # moto's DEFAULT_ACCOUNT_ID
CHECKOUT = str(Path(__file__).resolve().parent.parent)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def identity() -> dict[str, Any]:
    return {
        "product": "localcloud",
        "version": __version__,
        "checkout": CHECKOUT,
        "pid": os.getpid(),
        "accounts": accounts(),
    }


def accounts() -> str:
    """How the account of a request is chosen (moto's ``BaseResponse.get_current_account``, in its order)."""
    fixed = os.environ.get("MOTO_ACCOUNT_ID")
    if fixed:
        return f"{fixed} for every request (MOTO_ACCOUNT_ID)"
    return (
        f"{DEFAULT_ACCOUNT} unless the x-moto-account-id request header names another; an access key issued by "
        "this local cloud's IAM answers in its own account, any other key in the default one"
    )


def with_identity(app: WsgiApp) -> WsgiApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != IDENTITY_PATH:
            return app(environ, start_response)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
            return [b""]
        body = json.dumps(identity()).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body] if environ["REQUEST_METHOD"] == "GET" else [b""]

    return application


# The service a SigV4 request is for (Authorization header, or a presigned URL's X-Amz-Credential).
_SCOPE = re.compile(r"Credential=[^/]*/\d{8}/[^/]*/([^/]+)/aws4_request")


def is_s3(environ: dict[str, Any]) -> bool:
    """Whether moto serves this request as S3: signed for ``s3``, or not signed with SigV4 at all (moto's default)."""
    credential = environ.get("HTTP_AUTHORIZATION", "") or environ.get("QUERY_STRING", "").replace("%2F", "/")
    scope = _SCOPE.search(credential)
    return scope is None or scope.group(1) == "s3"


def with_deferred_services(app: WsgiApp) -> WsgiApp:
    """Any request for a service other than S3 first loads and patches the rest (``fixes.apply_deferred``)."""
    from localcloud import fixes

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not fixes.deferred_applied() and not is_s3(environ):
            fixes.apply_deferred()
        return app(environ, start_response)

    return application


def moto_dispatcher() -> WsgiApp:
    """moto's server dispatcher (one Flask app per service, built at its first request)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def application() -> WsgiApp:
    """The whole stack the server serves: plain S3 requests without Flask (``localcloud.s3_app``), the rest
    through moto's dispatcher, imported at the first of them."""
    from localcloud.router import with_cloudformation
    from localcloud.s3_app import with_plain_s3

    return with_identity(with_deferred_services(with_cloudformation(with_plain_s3(moto_dispatcher))))
