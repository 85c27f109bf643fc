"""Start and stop the local cloud: moto's WSGI application in this process, bound to loopback, with the fixes.

``start()`` owns the order that matters:
1. check the moto patches and apply them (``localcloud.fixes``; only ever done here, never at import time),
2. serve the WSGI stack (``localcloud.wsgi``) from a threaded werkzeug server on 127.0.0.1,
3. start the Lambda runtime (Runtime API + awslambdaric workers) and make it the active one,
and on exit stops the runtime (ending every worker process) before the server.

The server is werkzeug's, run here rather than through moto's ``ThreadedMotoServer`` so that stopping it is
immediate: ``shutdown()`` only takes effect when the accept loop wakes up (every 0.5 s), so ``_stop`` wakes it
with a connection of its own.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator

from localcloud import fixes, wsgi

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud"}

log = logging.getLogger("localcloud")


class PortInUse(RuntimeError):
    """The requested port is taken (often by another local cloud, or LocalStack, whose default is also 4566)."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"Port {port} on {LOOPBACK} is already in use, perhaps by another local cloud or by LocalStack (whose "
            f"default port is also {DEFAULT_PORT}). Stop that process, or use another port: `invoke localcloud "
            f"--port {port + 1}`, with `local_port: {port + 1}` in invoke.yaml so that the other tasks find it."
        )
        self.port = port


def check_port(port: int) -> None:
    """Raise ``PortInUse`` when something already listens on ``port`` of 127.0.0.1 (0 picks a free one)."""
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            raise PortInUse(port) from exc


def _reset_state() -> None:
    """Each local cloud starts empty, even when an earlier one ran in this process (tests do that).

    moto's own reset (what ``POST /moto-api/reset`` does), called directly: no HTTP round trip, and no Flask app
    built for moto's API at every start.
    """
    from moto.moto_api._internal.models import moto_api_backend

    from localcloud import router

    moto_api_backend.reset()
    router.reset_engine()


def _serve(port: int):
    """A threaded werkzeug server for the local cloud's WSGI stack, accepting connections on its own thread."""
    from werkzeug.serving import make_server

    from localcloud import keep_alive

    try:
        handler = keep_alive.KeepAliveRequestHandler
        server = make_server(LOOPBACK, port, wsgi.application(), threaded=True, request_handler=handler)
    except OSError as exc:  # taken between the check and the bind
        raise PortInUse(port) from exc
    thread = threading.Thread(target=server.serve_forever, name="localcloud-server", daemon=True)
    thread.start()
    return server, thread


def _stop(server, thread: threading.Thread) -> None:
    """Stop accepting at once: ask the loop to end, then wake its select() with a connection until it has."""
    from localcloud import keep_alive

    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    address = server.server_address[:2]
    while stopper.is_alive():
        with contextlib.suppress(OSError), socket.create_connection(address, timeout=0.05):
            pass
        stopper.join(0.005)
    thread.join()
    server.server_close()
    keep_alive.close_connections(server)  # and the connections still open (HTTP keep-alive)


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Start-up creates a few hundred thousand objects that live as long as the process (moto's modules, models
    and patches); the cyclic collector's passes over them cost ~8% of the start and free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # and later passes skip them (stop() unfreezes)
        if enabled:
            gc.enable()


@contextlib.contextmanager
def start(
    port: int = 0, region: str = DEFAULT_REGION, latency: str | None = None, latency_scale: float | None = None
) -> Iterator[str]:
    """Run a local cloud for the duration of the ``with`` block and yield its endpoint URL.

    ``port=0`` picks a free port. The server only ever binds to 127.0.0.1. ``latency="aws"`` paces
    CloudFormation like AWS (``latency_scale``, or ``"aws*0.01"``, shortens it); the default is instant.
    """
    from localcloud.cloudformation import latency as profiles

    profile = profiles.parse(latency, latency_scale)  # a bad spec is refused before anything starts
    check_port(port)
    # moto reads these lazily; they make the in-process backends behave like a stand-alone server.
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
    started = time.monotonic()
    with _without_cyclic_gc():
        fixes.apply_at_start()  # first: it defers moto's heavy package __init__s before anything imports moto
        from localcloud import runtime  # imports moto: only when a local cloud starts, never with the package

        # One access-log line per request would drown the tasks' own output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server, thread = _serve(port)
    endpoint = f"http://{LOOPBACK}:{server.server_address[1]}"
    lambda_runtime = runtime.LambdaRuntime(endpoint_url=endpoint, region=region)
    try:
        _reset_state()
        lambda_runtime.start()
        runtime.set_active(lambda_runtime)
        profiles.use(profile)
        log.debug("local cloud ready at %s in %.0f ms", endpoint, (time.monotonic() - started) * 1000)
        yield endpoint
    finally:
        profiles.use(profiles.INSTANT)
        runtime.set_active(None)
        lambda_runtime.stop()
        _stop(server, thread)
        gc.unfreeze()  # what start-up froze is collectable again
