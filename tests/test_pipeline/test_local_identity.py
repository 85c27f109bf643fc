"""The tasks deploy to the local cloud only when the endpoint says it is this checkout's local cloud."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import aws, commands, local_identity
from pipeline.config import ROOT
from pipeline.errors import UserError


@contextmanager
def plain_server(status: int = 404, body: bytes = b"not here", content_type: str = "text/plain"):
    """A plain HTTP server on a free loopback port, standing in for LocalStack or anything else."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits for the loop's next poll (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _port(endpoint):
    return endpoint.rsplit(":", 1)[1]


def test_something_else_on_the_port_is_named_with_the_fix(make_settings):
    with plain_server() as endpoint:
        settings = replace(make_settings(), endpoint_url=endpoint)
        with pytest.raises(UserError) as caught:
            aws.connect(settings)
    message = str(caught.value)
    assert message.startswith(f"Something else, perhaps LocalStack, is listening on {_port(endpoint)}: ")
    assert "HTTP 404" in message and "set local_port" in message


def test_a_json_answer_that_is_not_the_local_cloud_is_something_else():
    with plain_server(200, json.dumps({"status": "running"}).encode(), "application/json") as endpoint:
        found = local_identity.probe(endpoint)
    assert found.state == "other" and "does not name the local cloud" in found.answer


def test_pipeline_does_not_start_its_own_cloud_over_someone_elses(make_settings, monkeypatch):
    started = []
    monkeypatch.setattr("pipeline.embedded.start", lambda *a, **k: started.append(a))
    with plain_server(200, b"<html>LocalStack</html>", "text/html") as endpoint:
        settings = replace(make_settings(), endpoint_url=endpoint)
        with pytest.raises(UserError, match="Something else, perhaps LocalStack"):
            commands.pipeline(settings, skip_lint=True)
    assert started == []


def test_another_checkouts_local_cloud_is_named(tmp_path):
    other = tmp_path / "other-checkout"
    identity = {
        "product": "localcloud",
        "version": "x",
        "checkout": str(other),
        "pid": 4242,
        "accounts": "per access key",
    }
    answer = json.dumps(identity).encode()
    with plain_server(200, answer, "application/json") as endpoint, pytest.raises(UserError) as caught:
        local_identity.require(endpoint, ROOT)
    message = str(caught.value)
    assert message.startswith(f"The local cloud on {_port(endpoint)} was started from {other} (pid 4242)")
    assert str(ROOT) in message


def test_this_checkouts_local_cloud_is_recognised(endpoint):
    assert aws.local_cloud_running(endpoint)
    assert local_identity.require(endpoint, Path(str(ROOT))).identity["checkout"] == str(ROOT)


def test_nothing_listening_is_not_an_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    assert not aws.local_cloud_running(f"http://127.0.0.1:{free}")
    assert local_identity.probe(f"http://127.0.0.1:{free}").state == "nothing"
