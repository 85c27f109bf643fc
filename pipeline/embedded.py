"""The local cloud ``invoke pipeline`` starts for itself, in a child process so it comes up while lint runs.

Starting the local cloud is mostly importing moto: a second of CPU. In a thread it would queue behind the
pipeline's own work for the interpreter lock; in a child process it runs on another core, beside lint's tools
and the deploy's imports. The child prints ``ready <endpoint>`` once it answers, then runs until its stdin
closes: when the pipeline is done, or when the pipeline dies, so it never outlives it. Run as
``python -m pipeline.embedded --region REGION``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator

from pipeline.config import ROOT
from pipeline.errors import UserError

READY = "ready "
STOP_TIMEOUT = 15  # seconds for the child to stop its Lambda workers and exit before it is killed


class Child:
    """A starting local cloud; ``endpoint()`` waits until it answers."""

    def __init__(self, process: subprocess.Popen, errors):
        self.process, self._errors, self._endpoint = process, errors, None

    def endpoint(self) -> str:
        if self._endpoint is None:
            line = self.process.stdout.readline()
            if not line.startswith(READY):
                self.process.wait(STOP_TIMEOUT)
                self._errors.seek(0)
                detail = self._errors.read().strip().splitlines()[-10:]
                raise UserError(
                    "The embedded local cloud did not start (exit status "
                    f"{self.process.returncode}). Its last lines:\n  " + "\n  ".join(detail or ["(none)"]) + "\n"
                    "Start one yourself with `invoke localcloud` to see the whole error, or rerun with --debug."
                )
            self._endpoint = line[len(READY) :].strip()
        return self._endpoint


@contextlib.contextmanager
def start(region: str) -> Iterator[Child]:
    """Start the child now; stop it (and its Lambda workers) when the block ends, however it ends."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.embedded", "--region", region],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            yield Child(process, errors)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True)
    region = parser.parse_args().region
    import localcloud

    with contextlib.suppress(KeyboardInterrupt), localcloud.start(region=region) as endpoint:
        print(f"{READY}{endpoint}", flush=True)
        sys.stdin.read()  # until the pipeline closes it (or exits)
    sys.stdout.flush()
    os._exit(0)  # workers are stopped; skip tearing down moto's modules, which only costs time


if __name__ == "__main__":
    main()
