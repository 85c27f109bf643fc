"""Worker processes: awslambdaric (``runtime_packages.command``) behind a local Runtime API, and pools of them.

A ``Worker`` is one execution environment: one process (in its own process group, so stopping it ends any
children too), one Runtime API endpoint, one log stream. The process is forked from the local cloud's zygote
(``localcloud.zygote``: the runtime's imports are paid once) or, when that cannot give the same environment,
exec'd as ``runtime_packages.command`` says. Its state (the invocation being served, what the
runtime posted) lives here in ``_Channel``; the HTTP translation lives in ``localcloud.runtime_api``.

The invoking thread waits in select() on the output pipe and on a wake-up pipe the channel writes to, so it
sees the handler's output, the runtime's result, the process's exit and the deadline in one place.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import dataclasses
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from localcloud import runtime_packages, zygote
from localcloud.runtime_api import Invocation, RuntimeApiServer
from localcloud.worker_output import OutputCollector

INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of an on-demand function


@dataclass(frozen=True)
class WorkerSpec:
    handler: str
    code_dir: str
    packages_dir: str  # what the runtime provides besides the stdlib (``localcloud.runtime_packages.build``)
    env: dict[str, str]
    timeout_s: float
    log_stream: str
    log_settings: Any = None  # opaque here: how the runtime renders this worker's log lines


@dataclass
class Outcome:
    """What one invocation produced. ``kind``: response | error | init_error | timeout | exit."""

    kind: str
    phase: str = "invoke"  # "init" when the runtime never got ready
    body: bytes = b""
    error_type: str = ""
    events: list[tuple[int, str]] = field(default_factory=list)  # output not yet handed to the sink
    duration_ms: float = 0.0
    init_ms: float | None = None
    max_memory_mb: int = 0


class InvocationSink(Protocol):
    """Where a worker reports an invocation's progress (``localcloud.invocation_log.InvocationLog``)."""

    def started(self, init_ms: float | None, init_events: list[tuple[int, str]]) -> None: ...

    def output(self, events: list[tuple[int, str]]) -> None: ...


class WorkerGone(RuntimeError):
    """The worker was stopped (its function changed or was deleted, or the cloud is stopping)."""


class _Channel:
    """The runtime-side state of one worker, fed by the Runtime API threads."""

    def __init__(self) -> None:
        self.inbox: queue.Queue[Invocation | None] = queue.Queue()
        self.posted: queue.SimpleQueue[tuple[str, str, bytes, str]] = queue.SimpleQueue()
        self.current: str | None = None
        self._ready = False
        self._lock = threading.Lock()
        self._closed = False
        self.wake_fd, self._wake_w = os.pipe()

    def next_invocation(self) -> Invocation | None:
        if not self._ready:
            self._ready = True
            self._post("ready", "", b"", "")
        invocation = self.inbox.get()
        self.current = invocation.request_id if invocation else None
        return invocation

    def post_response(self, request_id: str, body: bytes) -> bool:
        return self._post_result("response", request_id, body, "")

    def post_error(self, request_id: str, body: bytes, error_type: str) -> bool:
        return self._post_result("error", request_id, body, error_type)

    def post_init_error(self, body: bytes, error_type: str) -> None:
        self._post("init_error", "", body, error_type)

    def _post_result(self, kind: str, request_id: str, body: bytes, error_type: str) -> bool:
        if request_id != self.current:
            return False
        self.current = None
        self._post(kind, request_id, body, error_type)
        return True

    def _post(self, kind: str, request_id: str, body: bytes, error_type: str) -> None:
        self.posted.put((kind, request_id, body, error_type))
        with self._lock:  # never write to a closed (possibly already reused) descriptor
            if not self._closed:
                os.write(self._wake_w, b"x")

    def close(self) -> None:
        self.inbox.put(None)  # releases a blocked /next
        with self._lock:
            self._closed = True
            os.close(self.wake_fd)
            os.close(self._wake_w)


class Worker:
    def __init__(self, spec: WorkerSpec, nodelay: bool = True, forker: zygote.Zygote | None = None) -> None:
        """``forker``: the zygote to fork the process from (``localcloud.zygote``); None, or when it cannot: exec."""
        self.spec = spec
        self._forker = forker
        self._channel = _Channel()
        self._api = RuntimeApiServer(self._channel, nodelay=nodelay)
        self._proc: subprocess.Popen[bytes] | zygote.ForkedProcess | None = None
        self._output: OutputCollector | None = None
        self._started = 0.0
        self._init_ms: float | None = None  # set by the first invocation (the cold start)
        self._state = threading.Lock()
        self._busy = False
        self._released = False
        self.alive = False

    def start(self) -> None:
        self._api.start()
        env = {**self.spec.env, "AWS_LAMBDA_RUNTIME_API": self._api.address}
        self._started = time.monotonic()
        self._proc = self._fork(env) or spawn(
            runtime_packages.command(self.spec.handler, self.spec.code_dir, self.spec.packages_dir),
            cwd=self.spec.code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,  # its own group: Ctrl-C reaches us, and stop() ends the whole group
        )
        self._output = OutputCollector(self._proc.stdout.fileno())
        try:
            self._status_fd = os.open(f"/proc/{self._proc.pid}/status", os.O_RDONLY)
        except OSError:  # a forked worker that already died and was reaped: it used no memory worth reporting
            self._status_fd = -1
        self.alive = True

    def _fork(self, env: dict[str, str]) -> zygote.ForkedProcess | None:
        forker = self._forker
        if forker is None or not forker.can_fork(self.spec.code_dir, env):
            return None
        try:
            return forker.fork(self.spec.handler, self.spec.code_dir, env)
        except zygote.ZygoteGone:
            return None

    def invoke(self, invocation: Invocation, sink: InvocationSink) -> Outcome:
        """Run one invocation; a cold worker first waits for the runtime to finish its init.

        ``sink`` hears when the request is handed over and gets the output as it arrives; what is left at the
        end (and everything, when init fails) comes back in the ``Outcome``.
        """
        with self._state:
            if not self.alive:
                raise WorkerGone("the worker was stopped")
            self._busy = True
        try:
            return self._invoke(invocation, sink)
        finally:
            with self._state:
                self._busy = False
                dead = not self.alive
            if dead:
                self._release_resources()  # stopped while busy: the pipes were left for us to close

    def _invoke(self, invocation: Invocation, sink: InvocationSink) -> Outcome:
        init_ms = None
        if self._init_ms is None:
            outcome = self._await_init()
            if outcome is not None:
                return outcome
            init_ms = self._init_ms
        sink.started(init_ms, self._output.take())
        started = time.monotonic()
        # As in Lambda, the function gets its whole timeout from the moment the request is handed over.
        deadline_ms = int((time.time() + self.spec.timeout_s) * 1000)
        self._channel.inbox.put(dataclasses.replace(invocation, deadline_ms=deadline_ms))
        posted = self._wait_for(("response", "error"), started + self.spec.timeout_s, sink.output)
        outcome = self._outcome(posted, started)
        outcome.init_ms = init_ms
        return outcome

    def _await_init(self) -> Outcome | None:
        posted = self._wait_for(("ready", "init_error"), self._started + INIT_TIMEOUT_S)
        self._init_ms = (time.monotonic() - self._started) * 1000
        if posted is not None and posted[0] == "ready":
            return None
        outcome = self._outcome(posted, self._started)
        outcome.init_ms, outcome.phase = self._init_ms, "init"
        return outcome

    def _outcome(self, posted: tuple[str, str, bytes, str] | None, started: float) -> Outcome:
        duration_ms = (time.monotonic() - started) * 1000
        memory = self._max_memory_mb()
        if posted is None:
            kind = "exit" if self._output.closed else "timeout"
            self.stop()
            self._proc.wait()  # stop() may be running in another thread: the exit status must be known here
            return Outcome(kind, events=self._output_events(), duration_ms=duration_ms, max_memory_mb=memory)
        kind, _request_id, body, error_type = posted
        if kind == "init_error":
            self._await_exit()
        events = self._output_events()
        return Outcome(kind, "invoke", body, error_type, events, duration_ms=duration_ms, max_memory_mb=memory)

    def _output_events(self) -> list[tuple[int, str]]:
        self._output.read()
        return self._output.take()

    def _wait_for(
        self, kinds: tuple[str, ...], deadline: float, on_output: Callable[[list[tuple[int, str]]], None] | None = None
    ) -> tuple[str, str, bytes, str] | None:
        """Wait for one of ``kinds`` to be posted; None on deadline or when the process exits first.

        Complete output lines go to ``on_output`` as they arrive (the rest is collected by the caller).
        """
        while True:
            posted = self._pop_posted(kinds)
            if posted is not None:
                return posted
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._output.closed:
                return None
            readable, _, _ = select.select([self._channel.wake_fd, self._output.fd], [], [], remaining)
            if self._channel.wake_fd in readable:
                os.read(self._channel.wake_fd, 4096)
            if self._output.fd in readable:
                self._output.read()
                if on_output is not None and (lines := self._output.take(complete_only=True)):
                    on_output(lines)

    def _pop_posted(self, kinds: tuple[str, ...]) -> tuple[str, str, bytes, str] | None:
        while True:
            try:
                posted = self._channel.posted.get_nowait()
            except queue.Empty:
                return None
            if posted[0] in kinds:
                return posted

    def _await_exit(self) -> None:
        # awslambdaric exits right after reporting an init error; collect its last words first.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=2)
        self.stop()

    def _max_memory_mb(self) -> int:
        """Peak resident memory of the runtime process (VmHWM), as Lambda's "Max Memory Used"."""
        try:  # one pread on a descriptor kept open: this runs once per invocation
            status = os.pread(self._status_fd, 4096, 0)
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith(b"VmHWM:"):
                return max(1, round(int(line.split()[1]) / 1024))
        return 0

    @property
    def healthy(self) -> bool:
        return self.alive and self._proc is not None and self._proc.poll() is None

    @property
    def exit_status(self) -> str:
        """How the process ended, worded as Lambda words it ("exit status 1", "signal: killed")."""
        code = self._proc.returncode if self._proc else None
        if code is None:
            return "running"
        if code < 0:  # Lambda's wording comes from Go's signal names
            names = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGSEGV: "segmentation fault"}
            return f"signal: {names.get(-code, signal.Signals(-code).name.lower())}"
        return f"exit status {code}"

    def stop(self) -> None:
        """End the process group, then the Runtime API endpoint and the pipes. Safe from any thread, repeatedly.

        While another thread is inside ``invoke()``, only the kill happens here: that thread sees the pipe close,
        finishes with what the process wrote, and releases the descriptors itself (never closed under a select).
        """
        with self._state:
            if not self.alive:
                return
            self.alive = False
            busy = self._busy
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        if not busy:
            self._release_resources()

    def _release_resources(self) -> None:
        with self._state:
            if self._released:
                return
            self._released = True
        self._output.read()  # keep what it wrote before dying; take() still returns it
        self._output.closed = True
        self._proc.stdout.close()
        if self._status_fd >= 0:
            os.close(self._status_fd)
        self._channel.close()
        self._api.stop()


# Orphans: a worker must die with the local cloud even when it is killed (kill -9) and cannot stop them. On Linux
# each worker asks the kernel for SIGKILL when its parent goes (PR_SET_PDEATHSIG). The kernel means the parent
# *thread*, so every worker is started from one long-lived thread, never from a request or dispatcher thread that
# may end while the worker is still warm.

_PR_SET_PDEATHSIG = 1
_spawner: concurrent.futures.ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _die_with_parent() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec: no imports, no locks
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def spawn(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    global _spawner
    preexec = _die_with_parent()
    if preexec is None:
        return subprocess.Popen(args, **kwargs)
    with _spawner_lock:
        if _spawner is None:
            _spawner = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-spawner")
    return _spawner.submit(subprocess.Popen, args, preexec_fn=preexec, **kwargs).result()


class WorkerPool:
    """The workers of one function configuration: reuse an idle one, else start one, up to ``limit``."""

    def __init__(self, fingerprint: tuple, limit: int, spawn: Callable[[], Worker]) -> None:
        self.fingerprint = fingerprint
        self._limit = limit
        self._spawn = spawn
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._starting = 0
        self._retired = False
        self._closed = False
        self._cond = threading.Condition()

    def acquire(self) -> Worker:
        with self._cond:
            while not self._closed and not self._idle and len(self._all) + self._starting >= self._limit:
                self._cond.wait()
            if self._closed:
                raise WorkerGone("the local cloud is stopping")
            worker = self._take_idle()
            if worker is not None:
                return worker
            self._starting += 1
        return self._start_new()

    def _take_idle(self) -> Worker | None:
        while self._idle:
            worker = self._idle.pop()
            if worker.healthy:
                return worker
            self._all.discard(worker)  # its process died while idle: Lambda would use a fresh one
            worker.stop()
        return None

    def _start_new(self) -> Worker:
        worker = None
        try:
            worker = self._spawn()
            worker.start()
        finally:
            with self._cond:
                self._starting -= 1
                closed = self._closed
                if worker is not None and worker.alive and not closed:
                    self._all.add(worker)
                self._cond.notify()
        if closed and worker is not None:  # stop_all() ran while this one was starting
            worker.stop()
            raise WorkerGone("the local cloud is stopping")
        return worker

    def release(self, worker: Worker) -> None:
        with self._cond:
            keep = worker.alive and not self._retired
            if keep:
                self._idle.append(worker)
            else:
                self._all.discard(worker)
            self._cond.notify()
        if not keep:
            worker.stop()

    def retire(self) -> None:
        """Stop idle workers now; busy ones are stopped when released."""
        with self._cond:
            self._retired = True
            idle, self._idle = self._idle, []
            self._all.difference_update(idle)
        for worker in idle:
            worker.stop()

    def stop_all(self) -> None:
        with self._cond:
            self._retired = self._closed = True
            workers, self._idle = list(self._all), []
            self._all.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.stop()
