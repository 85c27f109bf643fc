"""The local cloud keeps HTTP/1.1 connections open between requests, as AWS endpoints do
(``localcloud.keep_alive``), and closes them whenever the next request could not be found."""

from __future__ import annotations

import http.client
import os
import socket
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import localcloud
from localcloud import server as local_server
from localcloud.keep_alive import KeepAliveRequestHandler


def _connection(endpoint: str) -> http.client.HTTPConnection:
    address = urlsplit(endpoint)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=10)


def _answer(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None):
    """One request, signed as boto3 signs S3's, on ``connection``; (status, Connection header, body)."""
    url = f"http://{connection.host}:{connection.port}{path}"
    request = AWSRequest(method, url, data=body or b"", headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    SigV4Auth(Credentials(*localcloud.DUMMY_CREDENTIALS.values()), "s3", "us-east-1").add_auth(request)
    connection.request(method, path, body=body, headers=dict(request.headers))
    response = connection.getresponse()
    return response.status, response.getheader("Connection"), response.read()


def test_one_connection_serves_a_bucket_an_upload_and_its_download(endpoint):
    """Bodies in both directions keep their framing on a reused connection."""
    bucket = f"keep-{os.urandom(4).hex()}"
    connection = _connection(endpoint)
    assert _answer(connection, "PUT", f"/{bucket}")[:2] == (200, None)
    first_socket = connection.sock
    assert _answer(connection, "PUT", f"/{bucket}/a.txt", b"first body")[:2] == (200, None)
    assert _answer(connection, "GET", f"/{bucket}/a.txt") == (200, None, b"first body")
    assert _answer(connection, "HEAD", f"/{bucket}/a.txt")[:2] == (200, None)
    assert _answer(connection, "GET", f"/{bucket}/missing")[0] == 404
    assert _answer(connection, "GET", f"/{bucket}/a.txt")[2] == b"first body"
    assert connection.sock is first_socket  # never reconnected
    connection.close()


def test_a_body_the_service_ignores_is_skipped_not_taken_for_the_next_request(endpoint):
    """ListBuckets does not read a body; the bytes are drained, and the next request on the connection is found."""
    connection = _connection(endpoint)
    status, kept, listing = _answer(connection, "GET", "/", b"GET /not-a-request HTTP/1.1\r\n\r\n")
    assert (status, kept) == (200, None) and b"ListAllMyBucketsResult" in listing
    first_socket = connection.sock
    status, _, listing = _answer(connection, "GET", "/")
    assert status == 200 and b"ListAllMyBucketsResult" in listing
    assert connection.sock is first_socket
    connection.close()


def _raw(endpoint: str, request: bytes) -> bytes:
    """Send ``request`` on a fresh socket and read until the server closes it."""
    address = urlsplit(endpoint)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_requests_whose_end_is_unknown_or_final_close_the_connection(endpoint):
    """HTTP/1.0, ``Connection: close`` and a chunked request body each get one answer, then the server closes
    (``_raw`` returning at all shows the close; a kept connection would leave it waiting for the timeout)."""
    host = urlsplit(endpoint).netloc.encode()
    bucket = f"keep-{os.urandom(4).hex()}".encode()
    assert _raw(endpoint, b"GET / HTTP/1.0\r\nHost: " + host + b"\r\n\r\n").startswith(b"HTTP/1.1 200")
    closing = _raw(endpoint, b"PUT /" + bucket + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n")
    assert closing.startswith(b"HTTP/1.1 200") and b"Connection: close" in closing
    chunked = (
        b"PUT /" + bucket + b"/c.txt HTTP/1.1\r\nHost: " + host + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nchunk\r\n0\r\n\r\n"
    )
    assert _raw(endpoint, chunked).startswith(b"HTTP/1.1 200")
    connection = _connection(endpoint)
    assert _answer(connection, "GET", f"/{bucket.decode()}/c.txt")[2] == b"chunk"
    connection.close()


def test_a_stopped_server_answers_nothing_more_on_a_connection_opened_before():
    """The local cloud's own serve and stop (its WSGI stack, no Lambda runtime: one per process is active)."""
    server, thread = local_server._serve(0)
    connection = _connection(f"http://127.0.0.1:{server.server_address[1]}")
    assert _answer(connection, "GET", "/")[:2] == (200, None)
    local_server._stop(server, thread)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        _answer(connection, "GET", "/")
    connection.close()


def test_an_upload_that_expects_100_continue_gets_one_then_its_answer(endpoint):
    """RFC 9110 section 10.1.1: the server sends 100 (Continue) before reading the body; once is enough."""
    host = urlsplit(endpoint).netloc.encode()
    bucket = f"keep-{os.urandom(4).hex()}".encode()
    head = b"PUT /" + bucket + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n"
    answer = _raw(endpoint, head + b"Expect: 100-continue\r\nContent-Length: 0\r\n\r\n")
    assert answer.count(b"100 Continue") == 1
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")


HEADER_BLOCKS = [
    b"Host: a\r\nContent-Length: 5\r\nX-Amz-Meta-My_Key: 1\r\n\r\n",
    b"host: a\r\nAccept: x\r\naccept: y\r\nX-Odd :  spaced \t\r\n\r\n",
    b"Folded: one\r\n two\r\n\tthree\r\nNext: v\r\n\r\n",
    b" leading continuation\r\nHost: a\r\n\r\n",
    b"Host: a\r\nnot a header line\r\nLost: b\r\n\r\n",
    b"Empty:\r\nLatin: caf\xe9\r\n\n",
]


@pytest.mark.parametrize("block", HEADER_BLOCKS)
def test_request_headers_are_the_fields_http_server_s_parser_gives(block):
    import io

    from localcloud.keep_alive import RequestHeaders

    theirs = http.client.parse_headers(io.BytesIO(block))
    ours = RequestHeaders.parse(http.client._read_headers(io.BytesIO(block)))
    assert ours.items() == list(theirs.items())
    assert ours.keys() == list(theirs.keys()) and len(ours) == len(theirs)
    for name in ("host", "HOST", "accept", "Folded", "x-odd", "X-Odd ", "Lost", "Empty", "latin", "missing"):
        assert ours.get(name) == theirs.get(name)
        assert ours.get_all(name) == theirs.get_all(name)
        assert (name in ours) == (name in theirs)


def test_bad_request_lines_get_what_http_server_answers():
    """Against werkzeug's server with the handler it extends (moto's, without Flask), on one application: the same
    bytes back."""
    import re
    import threading

    from werkzeug.serving import make_server

    from localcloud.request_handler import RequestHandler

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    answers = {}
    for handler in (RequestHandler, KeepAliveRequestHandler):
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
        # A short poll interval: shutdown() waits for the loop's next poll (0.5 s by default).
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            answers[handler] = [
                re.sub(rb"Date: [^\r]*", b"Date: -", _raw(endpoint, line + b"\r\nConnection: close\r\n\r\n"))
                for line in (b"GET / HTTP/x.y", b"GET / HTTP/2.0", b"GET / HTTP/1.1 extra", b"PUT /", b"GET /")
            ]
        finally:
            server.shutdown()
            server.server_close()
    assert answers[KeepAliveRequestHandler] == answers[RequestHandler]
    assert b"400" in answers[RequestHandler][0] and b"505" in answers[RequestHandler][1]
