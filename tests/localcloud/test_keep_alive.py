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
