"""Which Lambda runtimes the local cloud can run, and the platform error for those it cannot.

AWS accepts CreateFunction for any supported runtime (nodejs, java, dotnet, ruby, provided.*, python), and so does
the local cloud. It runs Python 3 functions only, with AWS's runtime interface client (awslambdaric) on this
interpreter. A function of another runtime is never run as Python: each synchronous invocation fails with
Lambda's platform error for a runtime it cannot run, InvalidRuntimeException (HTTP 502, Lambda API Reference,
Invoke, Errors), naming the runtime; an asynchronous one is dropped with a warning naming it.
"""

from __future__ import annotations

import re

from moto.awslambda.exceptions import LambdaClientError


class UnsupportedRuntime(LambdaClientError):
    """Lambda's platform error for a runtime it cannot run (Invoke: InvalidRuntimeException, HTTP 502)."""

    code = 502

    def __init__(self, runtime: str) -> None:
        super().__init__(
            "InvalidRuntimeException",
            f"The runtime or runtime version specified is not supported: {runtime or '(none)'}. The local cloud "
            "runs Python 3 functions only (python3.x, with AWS's runtime interface client); this function's code "
            "was not run.",
        )
        self.runtime = runtime


def runnable(runtime: str | None) -> bool:
    """Whether the local cloud can run a function of this runtime: any python3.x (on this interpreter)."""
    return bool(re.fullmatch(r"python3\.\d+", runtime or ""))
