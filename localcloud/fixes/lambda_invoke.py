"""Lambda's Invoke API runs the function with AWS's own runtime; moto 5.2.5 needs Docker for it.

AWS behaviour: ``Invoke`` with ``InvocationType`` RequestResponse runs the function and returns its result
(``X-Amz-Function-Error: Unhandled`` plus an ``errorMessage``/``errorType``/``stackTrace`` payload when it
fails, the base64 last 4 KB of its log with ``LogType=Tail``, ``X-Amz-Executed-Version``); ``Event`` queues it
and answers 202 at once with the invocation's request id in ``x-amzn-RequestId`` (the id the function's context and
its ``START``/``REPORT`` lines carry; retries and destinations apply); ``DryRun`` only checks and answers 204.
Deleting a function ends its execution environments.

moto gap: ``LambdaFunction.invoke``/``_invoke_lambda`` start a Docker container (without Docker they write
"error running docker" into the log group), ``Event`` runs synchronously, the log tail is wrong, and every answer
gets a random 52-character request id. This fix routes both methods to the active
``localcloud.runtime.LambdaRuntime``, gives an ``Event`` answer its invocation's id (``LambdaResponse.call_action``)
and wraps ``LambdaBackend.delete_function`` to stop the deleted function's workers.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse

from localcloud import runtime
from localcloud.patches import install

TAIL_BYTES = 4096
_INVOCATION_ID = "x-localcloud-invocation-id"  # from invoke() to call_action(), which answers it as the request id


def _active_runtime() -> runtime.LambdaRuntime:
    active = runtime.active()
    if active is None:
        raise RuntimeError("no local Lambda runtime is running (localcloud.start() starts one)")
    return active


def _payload(body: str | bytes | None) -> bytes:
    if not body:
        return b"{}"
    return body.encode() if isinstance(body, str) else body


def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    invocation_type = request_headers.get("x-amz-invocation-type") or "RequestResponse"
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        request_id = _active_runtime().invoke_async(self.account_id, self.region, self.function_arn, _payload(body))
        response_headers[_INVOCATION_ID] = request_id
        return b""
    result = _active_runtime().invoke(self, _payload(body))
    response_headers["x-amz-executed-version"] = result.executed_version
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    tail = result.log_text.encode()[-TAIL_BYTES:]
    # moto's response layer drops this header unless the request asked for LogType=Tail.
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    return result.payload


def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """moto's internal entry point (used by other moto services): same runtime, moto's return shape."""
    payload = event if isinstance(event, (str, bytes)) else json.dumps(event or {})
    result = _active_runtime().invoke(self, _payload(payload))
    return result.payload.decode("utf-8", "replace"), result.function_error is not None, result.log_text


def _with_invocation_id(original: Any) -> Any:
    @functools.wraps(original)
    def call_action(self: LambdaResponse) -> Any:
        status, headers, body = original(self)  # moto has set a random x-amzn-requestid by now
        if _INVOCATION_ID in headers:
            headers["x-amzn-requestid"] = headers.pop(_INVOCATION_ID)
        return status, headers, body

    return call_action


def apply() -> None:
    original_delete = LambdaBackend.delete_function

    @functools.wraps(original_delete)
    def delete_function(self: LambdaBackend, function_name: str, qualifier: str | None = None) -> None:
        try:
            arn = self.get_function(function_name, qualifier).function_arn
        except Exception:
            arn = None  # let moto raise its own "not found" error below
        original_delete(self, function_name, qualifier)
        active = runtime.active()
        if arn and active is not None:
            active.forget(arn)

    install(LambdaFunction, "invoke", invoke)
    install(LambdaFunction, "_invoke_lambda", _invoke_lambda)
    install(LambdaBackend, "delete_function", delete_function)
    install(LambdaResponse, "call_action", _with_invocation_id(LambdaResponse.call_action))
