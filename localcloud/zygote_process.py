"""The zygote's own program: an isolated interpreter that imports the runtime once, then forks Lambda workers.

Run by ``localcloud.zygote`` as ``python -I -S -u zygote_process.py <control fd> <packages dir> <bootstrap>``
(the same flags as an exec'd worker, so ``sys.flags`` and ``sys.path`` come out the same). Standard library only.

It imports what every worker would import before its handler (the modules of ``PRELOAD``, none of which reads the
environment at import), then serves the control socket: a ``spawn`` message (JSON, with the worker's output pipe
as an SCM_RIGHTS descriptor) forks a child that becomes the worker exactly as ``runtime_packages.command()``
would start it: the function's environment only, its code directory as cwd, its own process group, SIGKILL when
its parent (this process) dies, and then the same bootstrap. Every child's exit is reported back with its wait
status. The zygote is single-threaded, so forking it is safe; it exits when the control socket closes.
"""

import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import sys
import time

# awslambdaric's imports except ``bootstrap`` (it reads AWS_LAMBDA_LOG_* at import), ``lambda_runtime_client`` and
# its C client ``runtime_client`` (which reads AWS_LAMBDA_RUNTIME_API when it loads): each worker imports those
# itself, after its environment is set.
PRELOAD = (
    "runpy",
    "site",
    "json",
    "logging",
    "traceback",
    "importlib.util",
    "decimal",
    "simplejson",
    "awslambdaric.lambda_config",
    "awslambdaric.lambda_context",
    "awslambdaric.lambda_runtime_exception",
    "awslambdaric.lambda_runtime_marshaller",
    "awslambdaric.lambda_runtime_log_utils",
)
_PR_SET_PDEATHSIG = 1
_MAX_MESSAGE = 1 << 20


def main(control_fd: int, packages_dir: str, bootstrap: str) -> None:
    control = socket.socket(fileno=control_fd)
    before = set(sys.modules)
    sys.path.insert(0, packages_dir)
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # the worker then reports it at init, as an exec'd one would
            __import__(name)
    del sys.path[0]
    loaded = sorted({name.split(".")[0] for name in set(sys.modules) - before})
    # The environment as the interpreter left it: at start-up it may add LC_CTYPE (PEP 538 locale coercion).
    _send(control, {"ready": os.getpid(), "modules": loaded, "environ": dict(os.environ)})
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so SIGCHLD is delivered (and wakes select)
    _serve(control, wake_r, wake_w, packages_dir, bootstrap)


def _serve(control: socket.socket, wake_r: int, wake_w: int, packages_dir: str, bootstrap: str) -> None:
    zygote = os.getpid()
    while True:
        readable, _, _ = select.select([control, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
        _report_exits(control)
        if control in readable:
            message, fds, _, _ = socket.recv_fds(control, _MAX_MESSAGE, 1)
            if not message:
                return  # the local cloud is gone or stopping: our children die with us (PR_SET_PDEATHSIG)
            request = json.loads(message)
            pid = os.fork()
            if pid == 0:
                control.close()
                os.close(wake_r)
                os.close(wake_w)
                _become_worker(request, fds[0], zygote, packages_dir, bootstrap)
                raise SystemExit(0)  # the bootstrap returned: end as an interpreter does at the end of -c
            os.close(fds[0])
            # The child does it too: whichever runs first, the group exists before the local cloud hears of it.
            with contextlib.suppress(OSError):
                os.setpgid(pid, pid)
            _send(control, {"spawned": request["id"], "pid": pid})


def _report_exits(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(control, {"exited": pid, "status": status})


def _become_worker(request: dict, output_fd: int, zygote: int, packages_dir: str, bootstrap: str) -> None:
    """Turn this fresh child into the worker; exits, exceptions and atexit then go as in an exec'd interpreter."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setpgid(0, 0)  # its own group, as Popen(process_group=0) gives an exec'd worker
        _die_with_parent(zygote)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(devnull)
        os.close(output_fd)
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()  # TZ is read when the interpreter starts; this one started with the zygote's
        os.chdir(request["cwd"])
        sys.argv = ["-c", request["cwd"], packages_dir, request["handler"]]
        code = compile(bootstrap, "<string>", "exec")
    except BaseException as error:  # nothing may escape into the zygote's loop
        os.write(2, f"localcloud: the worker could not start: {error!r}\n".encode())
        os._exit(127)
    exec(code, {"__name__": "__main__"})


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the zygote died before prctl took effect
        os._exit(1)


def _send(control: socket.socket, message: dict) -> None:
    control.send(json.dumps(message).encode())  # SOCK_SEQPACKET: one message per send


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
