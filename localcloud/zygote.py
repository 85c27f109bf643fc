"""Cheaper cold starts: workers forked from a zygote that has already imported the runtime.

An exec'd worker (``runtime_packages.command``) pays, at every cold start, for a fresh interpreter and for
importing awslambdaric (simplejson, decimal, logging, its C client): ~40 ms of CPU before the handler's own
import. A ``Zygote`` is one helper process per local cloud, started on first need (``localcloud.zygote_process``
is its program), that has paid that once; each worker is a fork of it, and then the same bootstrap. The local
cloud's own process is multi-threaded, so it never forks; the zygote is single-threaded.

What a worker sees stays as with exec: the function's environment only, its code directory as cwd and first on
``sys.path``, its own process group, death with the local cloud (PR_SET_PDEATHSIG, through the zygote, which
dies with the local cloud in turn). Two cases still exec: a code directory that holds a module the zygote
imported (the function's own ``simplejson`` must win, as it would in a fresh interpreter), and a zygote that
cannot start or has died.

``ForkedProcess`` is the part of ``subprocess.Popen`` a ``Worker`` uses; the zygote reports exit statuses.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("localcloud")

PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zygote_process.py")
START_TIMEOUT_S = 10.0


# What the interpreter reads at start-up that a function's environment could change (under -I, PYTHON* is ignored).
_STARTUP_VARIABLES = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")


class ZygoteGone(RuntimeError):
    """The zygote is not running (it failed to start, died or was stopped): start the worker with exec instead."""


class ForkedProcess:
    """A worker forked by the zygote: pid, its output pipe and, once the zygote reports it, its exit status."""

    def __init__(self, pid: int, stdout_fd: int, settle: Callable[[], None] = lambda: None) -> None:
        """``settle``: the zygote's ``settle_if_ended`` (what a poll must know first)."""
        self.pid = pid
        self.stdout = os.fdopen(stdout_fd, "rb", buffering=0)
        self.returncode: int | None = None
        self._exited = threading.Event()
        self._settle = settle

    def exited(self, wait_status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(wait_status)
        self._exited.set()

    def poll(self) -> int | None:
        if self.returncode is None:
            self._settle()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return self.returncode


class Zygote:
    def __init__(self, packages_dir: str, bootstrap: str, env: dict[str, str], spawn: Callable[..., Any]) -> None:
        """``spawn`` starts the zygote process as ``subprocess.Popen`` would (``workers._spawn``: dies with us)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        self._lock = threading.Lock()  # one spawn request in flight: replies come in order
        self._state = threading.Lock()  # the children and exits the reader thread and fork() both touch
        self._replies: dict[int, threading.Event] = {}
        self._pids: dict[int, int] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}  # exits reported before the spawn reply was handled
        self._next_id = 0
        self._gone = False
        self._ready = threading.Event()
        self._start_env = env
        self._modules: frozenset[str] = frozenset()
        self._added_at_startup: dict[str, str] = {}
        try:
            self._proc = spawn(
                [sys.executable, "-I", "-S", "-u", PROGRAM, str(theirs.fileno()), packages_dir, bootstrap],
                pass_fds=(theirs.fileno(),),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                process_group=0,  # Ctrl-C reaches the local cloud, which stops everything in order
            )
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, name="lambda-zygote", daemon=True)
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT_S) or self._gone:
            self.stop()
            raise ZygoteGone("the Lambda zygote did not start")

    def can_fork(self, code_dir: str, env: dict[str, str]) -> bool:
        """Whether a fork is the environment a fresh interpreter would be: same start-up variables, and no module
        in the code directory that the zygote imported (the function's own must win)."""
        if self._gone or any(env.get(name) != self._start_env.get(name) for name in _STARTUP_VARIABLES):
            return False
        try:
            entries = os.listdir(code_dir)
        except OSError:
            return False
        return not any(entry.split(".", 1)[0] in self._modules for entry in entries)

    def fork(self, handler: str, code_dir: str, env: dict[str, str]) -> ForkedProcess:
        """A new worker process running ``handler`` from ``code_dir`` with ``env`` (and what the interpreter adds
        to it at start-up, as an exec'd one would)."""
        env = {**self._added_at_startup, **env}
        read_fd, write_fd = os.pipe()
        try:
            with self._lock:
                if self._gone:
                    raise ZygoteGone("the Lambda zygote is not running")
                self._next_id += 1
                request_id, replied = self._next_id, threading.Event()
                self._replies[request_id] = replied
                message = {"id": request_id, "handler": handler, "cwd": code_dir, "env": env}
                try:
                    socket.send_fds(self._sock, [json.dumps(message).encode()], [write_fd])
                except OSError as error:
                    raise ZygoteGone(f"the Lambda zygote is not running: {error}") from None
                os.close(write_fd)
                write_fd = -1
                if not replied.wait(START_TIMEOUT_S) or request_id not in self._pids:
                    raise ZygoteGone("the Lambda zygote did not answer")
                pid = self._pids.pop(request_id)
                child = ForkedProcess(pid, read_fd, self.settle_if_ended)
                with self._state:
                    self._children[pid] = child
                    early = self._early_exits.pop(pid, None)
            if early is not None:
                child.exited(early)
            return child
        except BaseException:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
            raise

    def _read(self) -> None:
        try:
            while message := self._sock.recv(65536):
                self._handle(json.loads(message))
        except OSError:
            pass
        self._died()

    def _handle(self, message: dict) -> None:
        if "ready" in message:
            self._modules = frozenset(message["modules"])
            environ = message["environ"]
            self._added_at_startup = {k: v for k, v in environ.items() if k not in self._start_env}
            self._ready.set()
        elif "spawned" in message:
            self._pids[message["spawned"]] = message["pid"]
            self._replies.pop(message["spawned"]).set()
        elif "exited" in message:
            with self._state:
                child = self._children.pop(message["exited"], None)
                if child is None:
                    self._early_exits[message["exited"]] = message["status"]
            if child is not None:
                child.exited(message["status"])

    def settle_if_ended(self) -> None:
        """When the zygote process has ended, wait until its reader has taken in the exits it still reported and
        marked the other workers killed. The reader sees the closed socket on its own, soon; a caller about to
        hand an invocation to an idle worker must not decide before it (the invocation would go to a dead one)."""
        if not self._gone and self._proc.poll() is not None:
            self._reader.join(START_TIMEOUT_S)

    def _died(self) -> None:
        """The zygote is gone, and with it (PR_SET_PDEATHSIG) every worker it forked: they count as killed."""
        self._gone = True
        self._ready.set()
        for replied in list(self._replies.values()):
            replied.set()
        with self._state:
            children, self._children = list(self._children.values()), {}
        for child in children:
            child.exited(9)  # the wait status of SIGKILL

    @property
    def alive(self) -> bool:
        return not self._gone

    def stop(self) -> None:
        """End the zygote (closing its socket is its signal to exit) and reap it."""
        self._gone = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._sock.close()
