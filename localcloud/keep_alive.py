"""HTTP/1.1 keep-alive for the local cloud's server: a client's connection serves all its requests, as AWS's do.

AWS endpoints keep connections open, and every SDK (botocore's urllib3 pool, the aws CLI) reuses them. werkzeug's
development server answers every request with ``Connection: close`` instead, because it cannot tell where an
unread request body ends (its clean-up after a request reads whatever the socket still holds). So each request
paid a TCP connect, an accept, a new handler thread and a socket close on both sides.

Here a request whose body length is known (``Content-Length``, or no body) is read through a stream that stops at
the end of its body, so werkzeug's clean-up drains only what the application left unread, never the next request,
and the connection stays open. Anything else (a chunked request body, a client asking ``Connection: close``,
HTTP/1.0, a client gone mid-body) still closes, as werkzeug does. The responses themselves are unchanged. An idle
connection is let go after ``IDLE_TIMEOUT_S``, and ``close_connections()`` ends them all when the server stops (a
stopped local cloud must not go on answering on connections opened before). ``Expect: 100-continue`` (botocore
sends it with every PutObject) gets one ``100 Continue``, werkzeug's; http.server sent a second one before it.
Header blocks are read into ``RequestHeaders`` (the fields the e-mail parser gives, without running it: ~0.1 ms of a
PutObject's ~2.5 ms).
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
import weakref
from http import HTTPStatus
from typing import Any

from werkzeug.wsgi import LimitedStream

from localcloud.request_handler import RequestHandler

IDLE_TIMEOUT_S = 60.0
# The e-mail parser's header line (compat32): a name of printable characters other than ":", then ":".
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]*")

_open: weakref.WeakKeyDictionary[Any, set[socket.socket]] = weakref.WeakKeyDictionary()  # server -> connections
_open_lock = threading.Lock()


class _Body(LimitedStream):
    """The request body: ends (b"") at its length; a client gone mid-body ends it too instead of raising."""

    disconnected = False

    def on_disconnect(self, error: Exception | None = None) -> None:
        self.disconnected = True

    def read(self, size: int = -1) -> bytes:
        # werkzeug's clean-up asks for 10 MB at a time; RawIOBase would allocate that much to return nothing.
        remaining = self.limit - self._pos
        return super().read(remaining if size < 0 else min(size, remaining)) if remaining > 0 else b""


class RequestHeaders:
    """A request's header fields as ``http.client.parse_headers`` gives them (names as sent, repeats kept, folded
    lines joined, the first field of a name for ``get``), for what werkzeug, moto and http.server ask of them."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields

    @classmethod
    def parse(cls, lines: list[bytes]) -> RequestHeaders:
        fields: list[tuple[str, str]] = []
        for line in (raw.decode("iso-8859-1") for raw in lines):
            if line in ("\r\n", "\n", ""):
                break
            if line[0] in " \t":  # a folded line continues the field before it (none: dropped, as there)
                if fields:
                    fields[-1] = (fields[-1][0], fields[-1][1] + line)
                continue
            name, colon, value = line.partition(":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                break  # not a header line: the e-mail parser ends the header block here too
            fields.append((name, value.lstrip(" \t")))
        return cls([(name, value.rstrip("\r\n")) for name, value in fields])

    def get(self, name: str, default: Any = None) -> Any:
        lowered = name.lower()
        return next((value for key, value in self._fields if key.lower() == lowered), default)

    def get_all(self, name: str, default: Any = None) -> Any:
        lowered = name.lower()
        return [value for key, value in self._fields if key.lower() == lowered] or default

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def keys(self) -> list[str]:
        return [name for name, _ in self._fields]

    def values(self) -> list[str]:
        return [value for _, value in self._fields]

    def __iter__(self) -> Any:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._fields)


class KeepAliveRequestHandler(RequestHandler):
    timeout = IDLE_TIMEOUT_S  # socketserver applies it to the connection: an idle client is let go
    _keep_alive = False

    def setup(self) -> None:
        super().setup()
        # werkzeug writes a response's head and body separately: on a connection that stays open, Nagle's
        # algorithm would hold the body back until the client's delayed ACK (~40 ms per request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with _open_lock:
            _open.setdefault(self.server, set()).add(self.connection)

    def finish(self) -> None:
        with _open_lock:
            _open.get(self.server, set()).discard(self.connection)
        super().finish()

    def parse_request(self) -> bool:
        """http.server's request line and Connection/Expect handling; the header block read by RequestHeaders."""
        if not self._request_line():
            return False
        try:
            self.headers = RequestHeaders.parse(http.client._read_headers(self.rfile))  # type: ignore[assignment]
        except http.client.LineTooLong as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
            return False
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        expects = self.headers.get("Expect", "").lower() == "100-continue"
        if expects and self.protocol_version >= "HTTP/1.1" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _request_line(self) -> bool:
        """``BaseHTTPRequestHandler.parse_request`` up to the headers (Python 3.11), the same answers to bad lines."""
        self.command, self.request_version = None, self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        if len(words) >= 3:
            version = words[-1]
            numbers = version[5:].split(".") if version.startswith("HTTP/") else []
            if len(numbers) != 2 or not all(n.isdigit() and len(n) <= 10 for n in numbers):
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            number = (int(numbers[0]), int(numbers[1]))
            if number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if number >= (2, 0):
                self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid HTTP version ({version[5:]})")
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({self.requestline!r})")
            return False
        if len(words) == 2:
            self.close_connection = True
            if words[0] != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({words[0]!r})")
                return False
        self.command, self.path = words[:2]
        if self.path.startswith("//"):  # gh-87389, as http.server does
            self.path = "/" + self.path.lstrip("/")
        return True

    def handle_expect_100(self) -> bool:
        # http.server would answer "100 Continue" here and werkzeug's run_wsgi again: one is werkzeug's.
        return True

    def run_wsgi(self) -> None:
        if getattr(self.server, "connections_closed", False):  # read after close_connections(): not answered
            self.close_connection = True
            return
        body = self._bounded_body()
        if body is None:
            return super().run_wsgi()
        socket_file, self.rfile = self.rfile, body
        self._keep_alive = True
        try:
            super().run_wsgi()
        finally:
            self.rfile = socket_file
            self._keep_alive = False
        if not body.is_exhausted or body.disconnected:
            self.close_connection = True  # the body was not read to its end: the next request cannot be found

    def _bounded_body(self) -> _Body | None:
        """A stream of exactly this request's body, or None when the connection must close after it."""
        if self.close_connection or self.request_version != "HTTP/1.1" or "Transfer-Encoding" in self.headers:
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return _Body(self.rfile, length) if length >= 0 else None

    def send_header(self, keyword: str, value: Any) -> None:
        if self._keep_alive and keyword.lower() == "connection" and str(value).lower() == "close":
            return  # werkzeug's unconditional close, for a request whose end is known
        super().send_header(keyword, value)


def close_connections(server: Any) -> None:
    """End every connection to ``server``: a request being answered finishes, no later one is answered."""
    server.connections_closed = True
    with _open_lock:
        connections = list(_open.pop(server, ()))
    for connection in connections:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RD)  # wakes a handler waiting for its connection's next request
