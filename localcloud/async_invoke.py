"""Lambda's asynchronous invocation: an event queue, retries, and OnSuccess/OnFailure destinations.

As in Lambda, the caller (S3 notifications, ``Invoke`` with ``InvocationType=Event``) only queues the event and
returns at once. Each function has its own queue and dispatcher threads (up to the local concurrency, or its
reserved concurrency), so a slow function only delays its own events. A failed run (function error, timeout,
crash) is retried ``MaximumRetryAttempts`` times (from the function's event invoke config, default 2) with the
same request id, then an invocation record goes to the OnFailure destination if one is set. Lambda waits about
a minute and then two between attempts; locally the delays are a fraction of a second.

An event whose function no longer exists is dropped with a line on the ``localcloud`` logger.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from localcloud.lambda_logs import iso_now
from localcloud.runtimes import UnsupportedRuntime

if TYPE_CHECKING:
    from localcloud.runtime import InvokeResult, LambdaRuntime

log = logging.getLogger("localcloud")

DEFAULT_MAX_RETRIES = 2


@dataclass
class AsyncEvent:
    account_id: str
    region: str
    function_arn: str
    payload: bytes
    request_id: str
    attempts: int = 0


@dataclass(order=True)
class _Queued:
    due: float
    seq: int
    event: AsyncEvent = field(compare=False)


@dataclass
class _FunctionQueue:
    """One function's events and the dispatcher threads serving them (started on demand, gone when idle)."""

    limit: int
    heap: list[_Queued] = field(default_factory=list)
    threads: int = 0
    waiting: int = 0  # threads idle in wait(): a new event needs no new thread


class AsyncInvoker:
    """Per-function queues: a slow or busy function only delays its own events, as in Lambda.

    Each function gets up to ``threads`` dispatchers (its reserved concurrency when lower); a dispatcher exits
    once its function has nothing queued, so idle functions cost no threads.
    """

    def __init__(self, runtime: LambdaRuntime, threads: int, retry_delays: tuple[float, ...]) -> None:
        self._runtime = runtime
        self._threads_wanted = threads
        self._delays = retry_delays or (0.0,)
        self._queues: dict[str, _FunctionQueue] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._threads: set[threading.Thread] = set()

    def submit(self, account_id: str, region: str, function_arn: str, payload: bytes, delay: float = 0.0) -> str:
        request_id = str(uuid.uuid4())
        self._schedule(AsyncEvent(account_id, region, function_arn, payload, request_id), delay=delay)
        return request_id

    def start(self) -> None:
        with self._cond:
            self._stopping = False

    def close(self) -> None:
        """Stop taking events and drop the queued ones; running invocations finish (or are killed) on their own."""
        with self._cond:
            self._stopping = True
            dropped = sum(len(q.heap) for q in self._queues.values())
            for queue in self._queues.values():
                queue.heap.clear()
            self._cond.notify_all()
        if dropped:
            log.info("local cloud stopping: %d queued async invocation(s) dropped", dropped)

    def join(self) -> None:
        with self._cond:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def _schedule(self, event: AsyncEvent, delay: float) -> None:
        key = _unqualified_key(event.function_arn)
        with self._cond:
            if self._stopping:
                return
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = _FunctionQueue(self._limit_for(event))
            heapq.heappush(queue.heap, _Queued(time.monotonic() + delay, next(self._seq), event))
            if queue.waiting == 0 and queue.threads < queue.limit:
                queue.threads += 1
                thread = threading.Thread(target=self._loop, args=(key, queue), name=f"lambda-async-{key}", daemon=True)
                self._threads.add(thread)
                thread.start()
            else:
                self._cond.notify_all()

    def _limit_for(self, event: AsyncEvent) -> int:
        fn = _lookup(event)
        reserved = getattr(fn, "reserved_concurrency", None) if fn is not None else None
        return max(1, min(self._threads_wanted, int(reserved))) if reserved else self._threads_wanted

    def _next(self, key: str, queue: _FunctionQueue) -> AsyncEvent | None:
        """The function's next due event; None (and this thread ends) when it has none queued or we stop."""
        with self._cond:
            while not self._stopping and queue.heap:
                now = time.monotonic()
                if queue.heap[0].due <= now:
                    return heapq.heappop(queue.heap).event
                queue.waiting += 1
                self._cond.wait(queue.heap[0].due - now)
                queue.waiting -= 1
            queue.threads -= 1
            self._threads.discard(threading.current_thread())
            if queue.threads == 0 and not queue.heap and self._queues.get(key) is queue:
                del self._queues[key]
            return None

    def _loop(self, key: str, queue: _FunctionQueue) -> None:
        while (event := self._next(key, queue)) is not None:
            try:
                self._run(event)
            except Exception:  # a bug here must not take the dispatcher (and every later event) down
                log.exception(
                    "async invocation %s of %s failed inside the local cloud", event.request_id, event.function_arn
                )

    def _run(self, event: AsyncEvent) -> None:
        fn = _lookup(event)
        if fn is None:
            log.warning(
                "dropping async event %s: function %s does not exist (deleted?)", event.request_id, event.function_arn
            )
            return
        event.attempts += 1
        try:
            result = self._runtime.invoke(fn, event.payload, event.request_id)
        except UnsupportedRuntime as error:
            log.warning("async invocation %s of %s not run: %s", event.request_id, fn.function_name, error.message)
            return
        if result.function_error is None:
            self._deliver(fn, event, result, "OnSuccess", "Success")
        elif event.attempts <= _max_retries(fn):
            delay = self._delays[min(event.attempts - 1, len(self._delays) - 1)]
            self._schedule(event, delay)
        else:
            log.info(
                "async invocation %s of %s failed %d time(s): giving up",
                event.request_id,
                fn.function_name,
                event.attempts,
            )
            self._deliver(fn, event, result, "OnFailure", "RetriesExhausted")

    def _deliver(self, fn: Any, event: AsyncEvent, result: InvokeResult, which: str, condition: str) -> None:
        destination = _destination(fn, which)
        if not destination:
            return
        record = invocation_record(fn, event, result, condition)
        try:
            self._send(destination, record)
        except Exception as exc:  # AWS drops a record it cannot deliver; say so instead of failing silently
            log.warning("could not send invocation record %s to %s: %s", event.request_id, destination, exc)

    def _send(self, arn: str, record: dict[str, Any]) -> None:
        _, _, service, region, account_id, resource = arn.split(":", 5)
        body = json.dumps(record)
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            sqs_backends[account_id][region].send_message(queue_name=resource, message_body=body)
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[account_id][region].publish(message=body, arn=arn)
        elif service == "lambda":
            self.submit(account_id, region, arn, body.encode())
        else:
            log.warning("destination %s: only SQS, SNS and Lambda destinations run locally", arn)


def invocation_record(fn: Any, event: AsyncEvent, result: InvokeResult, condition: str) -> dict[str, Any]:
    """The record Lambda sends to a destination (version 1.0)."""
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": result.executed_version}
    if result.function_error:
        response_context["functionError"] = result.function_error
    return {
        "version": "1.0",
        "timestamp": iso_now(),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": f"{_unqualified(fn.function_arn)}:{result.executed_version}",
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": _json_or_text(event.payload),
        "responseContext": response_context,
        "responsePayload": _json_or_text(result.payload),
    }


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


def _unqualified(arn: str) -> str:
    return ":".join(arn.split(":")[:7])


def _unqualified_key(arn: str) -> str:
    return _unqualified(arn) if arn.startswith("arn:") else arn


def _lookup(event: AsyncEvent) -> Any | None:
    from moto.awslambda.utils import get_backend

    from localcloud import fixes

    fixes.apply_deferred()  # an S3 event can be a local cloud's first use of Lambda
    try:
        return get_backend(event.account_id, event.region).get_function(event.function_arn)
    except Exception:  # UnknownFunctionException and friends: the function is gone
        return None


def _event_config(fn: Any) -> dict[str, Any]:
    # One merged config per function object (localcloud.fixes.lambda_event_invoke_config keeps it single).
    configs = getattr(fn, "event_invoke_config", None) or []
    return configs[-1].config if configs else {}


def _max_retries(fn: Any) -> int:
    return int(_event_config(fn).get("MaximumRetryAttempts", DEFAULT_MAX_RETRIES))


def _destination(fn: Any, which: str) -> str | None:
    return _event_config(fn).get("DestinationConfig", {}).get(which, {}).get("Destination")
