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
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from typing import Any

from werkzeug.wsgi import LimitedStream

from localcloud.request_handler import RequestHandler

IDLE_TIMEOUT_S = 60.0

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
