"""Where custom resources answer: the ResponseURL is a route of the local cloud's own, not a bucket.

AWS gives a custom resource's function a pre-signed S3 URL in a bucket of its own (User Guide, "Custom resources":
the function "uploads" its response object to the ResponseURL with an HTTPS PUT), a bucket no account lists. The
local cloud serves ``PUT <endpoint>/_localcloud/cloudformation/responses/<token>`` itself, so nothing shows up in
the account's ListBuckets and the provider learns of the answer at once instead of polling S3.
A token is unguessable and is accepted once, while its request waits; any other PUT is 404, other methods 405.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from typing import Any

PATH = "/_localcloud/cloudformation/responses/"


class _Slot:
    def __init__(self) -> None:
        self.answered = threading.Event()
        self.body: bytes | None = None


_slots: dict[str, _Slot] = {}
_lock = threading.Lock()


def expect() -> str:
    """A new token whose answer ``wait`` can collect."""
    token = secrets.token_urlsafe(24)
    with _lock:
        _slots[token] = _Slot()
    return token


def url(endpoint: str, token: str) -> str:
    return f"{endpoint}{PATH}{token}"


def wait(token: str, seconds: float) -> bytes | None:
    """The body PUT to the token's URL, or None when none came within ``seconds``; the token is spent either way."""
    with _lock:
        slot = _slots[token]
    slot.answered.wait(seconds)
    with _lock:
        _slots.pop(token, None)
    return slot.body


def _answer(token: str, body: bytes) -> bool:
    with _lock:
        slot = _slots.get(token)
        if slot is None or slot.answered.is_set():
            return False
        slot.body = body
        slot.answered.set()
        return True


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI endpoint the router sends ``PATH`` requests to."""
    if environ.get("REQUEST_METHOD") != "PUT":
        start_response("405 Method Not Allowed", [("Allow", "PUT"), ("Content-Length", "0")])
        return [b""]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    token = environ.get("PATH_INFO", "")[len(PATH) :]
    status = "200 OK" if _answer(token, body) else "404 Not Found"
    start_response(status, [("Content-Length", "0")])
    return [b""]
