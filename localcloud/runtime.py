"""The local Lambda service: runs functions with AWS's own runtime (awslambdaric) and logs like Lambda.

``LambdaRuntime`` owns, for the life of a local cloud:
- the deployed zips, extracted once per CodeSha256 into a temp dir;
- one ``WorkerPool`` per function version, keyed by everything that needs a fresh environment when it changes
  (code, handler, runtime, memory, timeout, environment, logging config): warm workers are reused, and a
  changed function gets new ones while the old ones are stopped;
- the asynchronous invoke queue (``localcloud.async_invoke``) used by S3 notifications and ``Event`` invokes.

``set_active()``/``active()`` let the moto patches (``localcloud.fixes``) find the running instance.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import json
import logging
import os
import sys
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from localcloud import code_dirs, lambda_logs, runtime_packages, workers, zygote
from localcloud.async_invoke import AsyncInvoker
from localcloud.invocation_log import InvocationLog
from localcloud.lambda_logs import LogSettings
from localcloud.runtime_api import Invocation
from localcloud.runtimes import UnsupportedRuntime, runnable
from localcloud.workers import Outcome, Worker, WorkerGone, WorkerPool, WorkerSpec

log = logging.getLogger("localcloud")

DUMMY_SECRET = "localcloud"
_active: LambdaRuntime | None = None


@dataclass(frozen=True)
class InvokeResult:
    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, as Lambda reports it
    log_text: str  # this invocation's log lines, for LogType=Tail
    executed_version: str


class LambdaRuntime:
    def __init__(
        self,
        endpoint_url: str,
        region: str,
        *,
        concurrency: int | None = None,
        nodelay: bool = True,
        retry_delays: tuple[float, ...] = (0.2, 0.4),
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.nodelay = nodelay  # switchable only so the benchmark can show what TCP_NODELAY buys
        self._concurrency = concurrency or max(2, 2 * (os.cpu_count() or 1))
        self._pools: dict[tuple[str, str], WorkerPool] = {}
        self._lock = threading.Lock()
        self._extract_lock = threading.Lock()
        self._warned_runtimes: set[str] = set()
        self._tmp: str | None = None
        self._workdir: code_dirs.CodeDir | None = None
        self._packages_dir: str | None = None
        self._zygote: zygote.Zygote | None = None
        self._zygote_failed = False
        self._zygote_lock = threading.Lock()
        self._stopped = False
        self.async_invoker = AsyncInvoker(self, threads=self._concurrency, retry_delays=retry_delays)

    def start(self) -> None:
        for path in code_dirs.remove_abandoned():
            log.info("removed %s, left behind by a local cloud that is no longer running", path)
        self._workdir = code_dirs.claim()
        self._tmp = self._workdir.path
        self._packages()  # now rather than in the first cold start
        self.async_invoker.start()
        atexit.register(self.stop)  # an interpreter exiting without stop() must not leave workers behind

    def stop(self) -> None:
        """Stop the async queue and every worker process (running ones are killed), then remove the code."""
        atexit.unregister(self.stop)
        self._stopped = True
        self.async_invoker.close()
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.stop_all()
        self.async_invoker.join()  # after the kills, so no dispatcher is still waiting on a slow function
        with self._zygote_lock:
            forker, self._zygote = self._zygote, None
        if forker is not None:
            forker.stop()
        if self._workdir:
            self._workdir.remove()
            self._workdir = self._tmp = self._packages_dir = None

    def invoke(self, fn: Any, payload: bytes, request_id: str | None = None) -> InvokeResult:
        """Run ``fn`` once, synchronously (RequestResponse), and write its log lines."""
        request_id = request_id or str(uuid.uuid4())
        if not runnable(fn.run_time):
            raise UnsupportedRuntime(fn.run_time)  # accepted at CreateFunction, as on AWS; never run as Python
        self._warn_runtime_mismatch(fn)
        # The deadline is set by the worker at hand-off: init and waiting for a worker do not eat the timeout.
        invocation = Invocation(request_id, payload, 0, fn.function_arn)
        for _ in range(3):
            pool = self._pool_for(fn)
            worker = pool.acquire()
            log_settings: LogSettings = worker.spec.log_settings
            sink = InvocationLog(fn, log_settings, worker.spec.log_stream, request_id)
            try:
                outcome = worker.invoke(invocation, sink)
            except WorkerGone:
                continue  # stopped between acquire() and invoke() (function deleted or recreated): try again
            except BaseException:
                worker.stop()
                raise
            finally:
                pool.release(worker)
            return _finish(fn, worker, sink, request_id, outcome)
        raise WorkerGone(f"no worker stayed available for {fn.function_name}")

    def invoke_async(self, account_id: str, region: str, function_arn: str, payload: bytes, delay: float = 0.0) -> str:
        """Queue an asynchronous invoke (S3 notification, InvocationType=Event), due after ``delay`` seconds."""
        return self.async_invoker.submit(account_id, region, function_arn, payload, delay)

    def forget(self, function_arn: str) -> None:
        """A function (unqualified ARN: every version) or one version was deleted: stop its workers."""
        qualified = len(function_arn.split(":")) > 7
        with self._lock:
            keys = [
                key
                for key in self._pools
                if key[0] == function_arn or (not qualified and key[0].startswith(function_arn + ":"))
            ]
            pools = [self._pools.pop(key) for key in keys]
        for pool in pools:
            pool.stop_all()

    # -- pools and workers -------------------------------------------------------------------------------

    def _pool_for(self, fn: Any) -> WorkerPool:
        key = (fn.function_arn, str(fn.version))
        fingerprint = _fingerprint(fn)
        with self._lock:
            if self._stopped:
                raise WorkerGone("the local cloud is stopping")
            pool = self._pools.get(key)
            if pool is not None and pool.fingerprint == fingerprint:
                return pool
            stale = pool
            limit = self._concurrency
            if fn.reserved_concurrency:
                limit = max(1, min(limit, int(fn.reserved_concurrency)))
            pool = WorkerPool(fingerprint, limit, lambda: self._new_worker(fn))
            self._pools[key] = pool
        if stale is not None:
            stale.retire()  # new code or configuration: the old environments go away
        return pool

    def _new_worker(self, fn: Any) -> Worker:
        settings = lambda_logs.settings_for(fn)
        stream = lambda_logs.new_stream_name(str(fn.version))
        code_dir = self._code_dir(fn)
        env = self._worker_env(fn, settings, stream, code_dir)
        spec = WorkerSpec(fn.handler or "", code_dir, self._packages(), env, float(fn.timeout), stream, settings)
        return Worker(spec, nodelay=self.nodelay, forker=self._forker(env))

    def _forker(self, env: dict[str, str]) -> zygote.Zygote | None:
        """The zygote workers are forked from, started on first need (and again if it died); None: exec them."""
        if not sys.platform.startswith("linux"):
            return None  # workers must die with the local cloud, and only Linux has PR_SET_PDEATHSIG
        packages = self._packages()
        with self._zygote_lock:
            if self._stopped or self._zygote_failed:
                return None
            if self._zygote is None or not self._zygote.alive:
                # The variables every worker gets that the interpreter reads at start-up (the rest are set per fork).
                start_env = {name: env[name] for name in ("PATH", "LANG", "TZ") if name in env}
                try:
                    self._zygote = zygote.Zygote(packages, runtime_packages.BOOTSTRAP, start_env, workers.spawn)
                except (OSError, zygote.ZygoteGone) as error:
                    log.warning("Lambda workers start without a zygote (slower cold starts): %s", error)
                    self._zygote_failed = True
                    return None
            return self._zygote

    def _packages(self) -> str:
        """The directory of what the AWS Python runtime provides besides the stdlib (``runtime_packages``)."""
        with self._extract_lock:
            if self._packages_dir is None:
                parent = self._tmp or tempfile.mkdtemp(prefix="localcloud-lambda-")
                self._packages_dir = runtime_packages.build(os.path.join(parent, "runtime-packages"))
            return self._packages_dir

    def _code_dir(self, fn: Any) -> str:
        """The function's zip, extracted once per CodeSha256."""
        name = hashlib.sha256((fn.code_sha_256 or "").encode()).hexdigest()[:32]
        path = os.path.join(self._tmp or tempfile.gettempdir(), name)
        with self._extract_lock:
            if not os.path.isdir(path):
                staging = tempfile.mkdtemp(dir=os.path.dirname(path))
                try:
                    with zipfile.ZipFile(io.BytesIO(fn.code_bytes)) as archive:
                        archive.extractall(staging)
                except (zipfile.BadZipFile, AttributeError):
                    log.warning("function %s has no readable zip; it will fail to import", fn.function_name)
                os.rename(staging, path)
        return path

    def _worker_env(self, fn: Any, settings: LogSettings, stream: str, code_dir: str) -> dict[str, str]:
        config = getattr(fn, "logging_config", None) or {}
        env = {str(k): str(v) for k, v in (fn.environment_vars or {}).items()}
        # Reserved variables win over the function's own, as in Lambda.
        env.update(
            {
                "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
                "LANG": "en_US.UTF-8",
                "TZ": ":UTC",
                "PYTHONPATH": code_dir,
                "PYTHONUNBUFFERED": "1",
                "LAMBDA_TASK_ROOT": code_dir,
                "_HANDLER": fn.handler or "",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
                "AWS_REGION": fn.region,
                "AWS_DEFAULT_REGION": fn.region,
                "AWS_LAMBDA_LOG_GROUP_NAME": settings.group,
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_LAMBDA_LOG_FORMAT": config.get("LogFormat", "Text"),
                # The function's SDK calls stay on the local cloud, with credentials that are never real.
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": DUMMY_SECRET,
                "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET,
                "AWS_SESSION_TOKEN": DUMMY_SECRET,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        if settings.json:  # Lambda sets the level only for JSON logs, where it defaults to INFO
            env["AWS_LAMBDA_LOG_LEVEL"] = config.get("ApplicationLogLevel", "INFO")
        return env

    def _warn_runtime_mismatch(self, fn: Any) -> None:
        local = f"python{sys.version_info.major}.{sys.version_info.minor}"
        runtime = fn.run_time or ""
        if runtime == local or runtime in self._warned_runtimes:
            return
        self._warned_runtimes.add(runtime)
        log.warning(
            "function %s declares Runtime %s but runs locally on %s (awslambdaric)",
            fn.function_name,
            runtime or "(none)",
            local,
        )


# Results: what Invoke answers for each way an invocation can end.


def _finish(fn: Any, worker: Worker, sink: InvocationLog, request_id: str, outcome: Outcome) -> InvokeResult:
    payload, error_type, status = _result_payload(worker, request_id, outcome, float(fn.timeout))
    sink.finished(outcome, error_type, status)
    return InvokeResult(
        request_id=request_id,
        payload=payload,
        function_error=None if outcome.kind == "response" else "Unhandled",
        log_text=sink.text,
        executed_version=str(fn.version),
    )


def _fingerprint(fn: Any) -> tuple:
    return (
        fn.code_sha_256,
        fn.handler,
        fn.run_time,
        fn.memory_size,
        fn.timeout,
        json.dumps(fn.environment_vars or {}, sort_keys=True),
        json.dumps(getattr(fn, "logging_config", None) or {}, sort_keys=True),
    )


def _result_payload(worker: Worker, request_id: str, outcome: Outcome, timeout_s: float) -> tuple[bytes, str, str]:
    """The Invoke response body, the error type for REPORT (runtime failures only) and the REPORT status."""
    if outcome.kind == "response":
        return outcome.body, "", "success"
    if outcome.kind == "error":
        return outcome.body, "", "success"  # a raised exception: the runtime itself did fine
    if outcome.kind == "init_error":
        body = _with_request_id(outcome.body, request_id)
        return body, outcome.error_type or "Runtime.Unknown", "error"
    if outcome.kind == "timeout":
        message = f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
        return _error_body("Sandbox.Timedout", message), "Sandbox.Timedout", "timeout"
    message = f"RequestId: {request_id} Error: Runtime exited with error: {worker.exit_status}"
    return _error_body("Runtime.ExitError", message), "Runtime.ExitError", "error"


def _error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def _with_request_id(body: bytes, request_id: str) -> bytes:
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if isinstance(document, dict) and not document.get("requestId"):
        document["requestId"] = request_id
    return json.dumps(document).encode()


def set_active(runtime: LambdaRuntime | None) -> None:
    global _active
    _active = runtime


def active() -> LambdaRuntime | None:
    return _active
