"""The local cloud ``invoke pipeline`` starts for itself, in a child process so it comes up while lint runs.

Starting the local cloud is mostly importing moto: a second of CPU. In a thread it would queue behind the
pipeline's own work for the interpreter lock; in a child process it runs on another core, beside lint's tools
and the deploy's imports. The child prints ``ready <endpoint>`` once it answers, then runs until its stdin
closes: when the pipeline is done, or when the pipeline dies, so it never outlives it. Once it answers, it
asks its own CloudFormation once, so that engine's first-request cost is paid while lint runs.

``invoke pipeline`` starts it first thing, before the task's own imports, and picks its port, so the pipeline
knows the endpoint at once and makes its clients while the child starts. Run as
``python -m pipeline.embedded --region REGION [--port PORT]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

from pipeline import cancel
from pipeline.config import ROOT, Settings
from pipeline.errors import UserError

LOOPBACK = "127.0.0.1"  # the local cloud only ever binds there
READY = "ready "
READY_POLL = 0.05  # seconds between looks at whether the deploy waiting for the child was abandoned
STOP_TIMEOUT = 15  # seconds for the child to stop its Lambda workers and exit before it is killed


class Child:
    """A starting local cloud; ``url`` is where it will answer (known at once), ``endpoint()`` waits until it does."""

    def __init__(self, process: subprocess.Popen, errors, url: str | None = None):
        self.process, self._errors, self._endpoint, self.url = process, errors, None, url

    def endpoint(self) -> str:
        if self._endpoint is None:
            while not select.select([self.process.stdout], [], [], READY_POLL)[0]:
                cancel.check()  # an abandoned deploy does not wait for the child to start (pipeline.overlap)
            line = self.process.stdout.readline()
            if not line.startswith(READY):
                self.process.wait(STOP_TIMEOUT)
                self._errors.seek(0)
                detail = self._errors.read().strip().splitlines()[-10:]
                raise UserError(
                    "The embedded local cloud did not start (exit status "
                    f"{self.process.returncode}). Its last lines:\n  " + "\n  ".join(detail or ["(none)"]) + "\n"
                    "Start one yourself with `invoke localcloud` for the whole error, or rerun with PIPELINE_DEBUG=1."
                )
            self._endpoint = line[len(READY) :].strip()
        return self._endpoint


def needed(settings: Settings) -> bool:
    """This run brings its own local cloud: the target is local and nothing answers at the configured endpoint
    (something that is not this checkout's local cloud is a UserError, see ``pipeline.local_identity``)."""
    from pipeline import local_identity

    return settings.target == "local" and not local_identity.running(settings.endpoint_url or "", ROOT)


@contextlib.contextmanager
def for_pipeline(settings: Settings) -> Iterator[Child | None]:
    """The local cloud this pipeline run needs for itself, starting now; None when it needs none."""
    if not needed(settings):
        yield None
        return
    with start(settings.region) as child:
        yield child


def _free_port() -> int:
    # Chosen here rather than by the child, so the pipeline knows the endpoint before the child answers.
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def start(region: str) -> Iterator[Child]:
    """Start the child now; stop it (and its Lambda workers) when the block ends, however it ends."""
    port = _free_port()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.embedded", "--region", region, "--port", str(port)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            yield Child(process, errors, f"http://{LOOPBACK}:{port}")
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        process.stdin.close()  # the child's signal to stop
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


def warm_up(endpoint: str, region: str) -> str:
    """Ask CloudFormation once, so its engine is loaded (seconds, the first time) while the pipeline still lints
    and packages, not when the deploy's first call arrives. Returns the answer (an error: no such stack)."""
    credential = f"localcloud/20260101/{region}/cloudformation/aws4_request"
    request = urllib.request.Request(
        endpoint,
        data=b"Action=DescribeStacks&Version=2010-05-15&StackName=embedded-warm-up",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.read().decode()
    except OSError as error:  # the local cloud is gone: nothing to warm up
        return str(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    args = parser.parse_args()
    region = args.region
    import localcloud

    with contextlib.suppress(KeyboardInterrupt), localcloud.start(port=args.port, region=region) as endpoint:
        print(f"{READY}{endpoint}", flush=True)
        threading.Thread(target=warm_up, args=(endpoint, region), daemon=True).start()
        sys.stdin.read()  # until the pipeline closes it (or exits)
    sys.stdout.flush()
    os._exit(0)  # workers are stopped; skip tearing down moto's modules, which only costs time


if __name__ == "__main__":
    main()
