"""HTTP side of the Lambda Runtime API (``/2018-06-01/runtime/...``), one listening socket per worker.

awslambdaric finds the API through ``AWS_LAMBDA_RUNTIME_API=host:port`` and its paths carry no worker id, so
each worker gets its own port on 127.0.0.1. This module only translates HTTP to calls on a ``RuntimeChannel``
(the worker's state lives in ``localcloud.workers``):

- ``GET  /2018-06-01/runtime/invocation/next``          -> ``channel.next_invocation()`` (blocks)
- ``POST /2018-06-01/runtime/invocation/{id}/response`` -> ``channel.post_response(id, body)``
- ``POST /2018-06-01/runtime/invocation/{id}/error``    -> ``channel.post_error(id, body, error_type)``
- ``POST /2018-06-01/runtime/init/error``               -> ``channel.post_init_error(body, error_type)``

Accepted sockets get TCP_NODELAY: the runtime client writes headers and body separately, and Nagle's algorithm
plus delayed ACKs turned a warm invoke into ~44 ms instead of well under 1 ms. Request heads are read with a plain
line parser, not ``http.server``'s (which runs the e-mail parser on every request, two per invocation), and each
answer is written at once.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


@dataclass(frozen=True)
class Invocation:
    """One event handed to the runtime by ``/invocation/next``."""

    request_id: str
    payload: bytes
    deadline_ms: int  # epoch ms; set by the worker when it hands the event over
    function_arn: str


class RuntimeChannel(Protocol):
    def next_invocation(self) -> Invocation | None: ...

    def post_response(self, request_id: str, body: bytes) -> bool: ...

    def post_error(self, request_id: str, body: bytes, error_type: str) -> bool: ...

    def post_init_error(self, body: bytes, error_type: str) -> None: ...


class _Headers(dict[str, str]):
    """A request's headers by lower-case name; ``get`` takes any case."""

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the runtime client reuses its connection
    server: RuntimeApiServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would drown everything else

    def parse_request(self) -> bool:
        """The request line and header lines (RFC 9112), read the way the runtime client writes them."""
        self.requestline = self.raw_requestline.decode("latin-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.request_version, self.close_connection = "HTTP/1.0", True
            self.send_error(400, "Bad request line")
            return False
        self.command, self.path, self.request_version = words
        headers = _Headers()
        while (line := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.headers = headers  # type: ignore[assignment]
        keep_alive = self.request_version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        self.close_connection = not keep_alive
        return True

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            return self._reply(404, {"errorMessage": "Unknown path", "errorType": "NotFound"})
        invocation = self.server.channel.next_invocation()
        if invocation is None:  # the worker is being stopped
            self.close_connection = True
            return self._reply(500, {"errorMessage": "Runtime stopping", "errorType": "Stopping"})
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
            "Content-Type": "application/json",
        }
        self._send(200, invocation.payload, headers)

    def do_POST(self) -> None:
        body = self._read_body()
        parts = self.path[len(PREFIX) :].strip("/").split("/") if self.path.startswith(PREFIX) else []
        error_type = self.headers.get(ERROR_TYPE_HEADER, "")
        channel = self.server.channel
        if parts == ["init", "error"]:
            channel.post_init_error(body, error_type)
            return self._reply(202, {"status": "OK"})
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            if parts[2] == "response":
                accepted = channel.post_response(parts[1], body)
            else:
                accepted = channel.post_error(parts[1], body, error_type)
            if accepted:
                return self._reply(202, {"status": "OK"})
            return self._reply(400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
        self._reply(404, {"errorMessage": "Unknown path", "errorType": "NotFound"})

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()  # the empty line after the last chunk
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _reply(self, status: int, document: dict[str, str]) -> None:
        self._send(status, json.dumps(document).encode(), {"Content-Type": "application/json"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        """Head and body in one write (http.server's send_response and end_headers make two, and more work)."""
        lines = [f"HTTP/1.1 {status} {self.responses[status][0]}", f"Date: {formatdate(usegmt=True)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


class RuntimeApiServer(ThreadingHTTPServer):
    """A Runtime API endpoint on 127.0.0.1:<free port> serving one channel (one worker)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, channel: RuntimeChannel, nodelay: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.channel = channel
        self.nodelay = nodelay
        self._thread = threading.Thread(target=self._accept_loop, name="lambda-runtime-api", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        if self.nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr

    def start(self) -> None:
        self._thread.start()

    def handle_error(self, request: object, client_address: object) -> None:
        # A worker killed mid-request (timeout, stop) leaves a broken connection behind: expected, not news.
        pass

    def stop(self) -> None:
        # Shutting the listening socket down wakes the blocked accept(); no polling loop needed.
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.server_close()
        self._thread.join(timeout=2)

    def _accept_loop(self) -> None:
        while True:
            try:
                request, client_address = self.get_request()
            except OSError:
                return
            self.process_request(request, client_address)
