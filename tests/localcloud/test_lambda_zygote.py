"""Workers forked from the zygote (``localcloud.zygote``) are the execution environments an exec'd worker is: same
interpreter flags, path, environment, working directory, process group and descriptors, and they die with it."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time

from fixtures_lambda.functions import create_function, invoke, zip_of
from test_lambda_runtime import _alive, _wait_gone

from localcloud import runtime, zygote

PROBE = textwrap.dedent(
    """
    import os, signal, sys, time


    def handler(event, context):
        return {
            "pid": os.getpid(),
            "ppid": os.getppid(),
            "own_group": os.getpgid(0) == os.getpid(),
            "argv": sys.argv[1:],
            "path": [p.replace(os.environ["LAMBDA_TASK_ROOT"], "<task>") for p in sys.path],
            "cwd_is_task_root": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"],
            "flags": [sys.flags.isolated, sys.flags.no_site, sys.flags.ignore_environment],
            "unbuffered": sys.stdout.write_through,
            "env": sorted(os.environ),
            "tz": list(time.tzname),
            "fds": sorted(os.listdir("/proc/self/fd"), key=int)[:3],
            "sigint": str(signal.getsignal(signal.SIGINT)),
            "sigchld": str(signal.getsignal(signal.SIGCHLD)),
            "stdin": os.path.realpath("/proc/self/fd/0"),
        }
    """
)
# A module of the same name as one the zygote has imported (the runtime imports it too, so it must work): the
# function's own must win, as in a fresh interpreter, so this function's workers are exec'd.
VENDORED_DECIMAL = {"decimal.py": "from _pydecimal import *  # noqa: F403\n\nVENDORED = True\n"}


def _probe(client, files: dict[str, str] | None = None, **extra) -> dict:
    fn = create_function(client, "handler", code=zip_of({"app.py": PROBE, **(files or {})}), **extra)
    response = invoke(client, fn["FunctionName"])
    assert "FunctionError" not in response, response["Body"]
    return json.loads(response["Body"])


def _command_line(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read().replace(b"\0", b" ").decode()


def test_a_forked_worker_sees_what_an_execd_worker_sees(client):
    forked = _probe(client)
    execd = _probe(client, VENDORED_DECIMAL)

    assert "zygote_process.py" in _command_line(forked["ppid"])
    assert execd["ppid"] == os.getpid()  # the exec'd one is the local cloud's own child
    for probe in (forked, execd):
        probe.pop("pid"), probe.pop("ppid")
    assert forked == execd
    assert forked["own_group"] and forked["cwd_is_task_root"] and forked["unbuffered"]
    assert forked["path"][0] == "<task>" and forked["path"][1].endswith("runtime-packages")
    assert forked["flags"] == [1, 1, 1]
    assert "PYTEST_CURRENT_TEST" not in forked["env"]  # only the function's environment
    assert forked["tz"] == ["UTC", "UTC"]
    assert forked["stdin"] == os.devnull


def test_a_function_that_sets_the_locale_is_execd_as_the_interpreter_reads_it_at_start_up(client):
    probe = _probe(client, Environment={"Variables": {"LC_ALL": "C.UTF-8"}})
    assert probe["ppid"] == os.getpid()
    assert "LC_CTYPE" not in probe["env"]  # with LC_ALL set, the interpreter does not coerce the locale


def test_a_zip_that_vendors_a_module_the_zygote_imported_gets_its_own(client):
    code = zip_of(
        {
            **VENDORED_DECIMAL,
            "app.py": "import decimal, os\n\ndef handler(event, context):\n"
            "    return [decimal.__file__, os.environ['LAMBDA_TASK_ROOT']]\n",
        }
    )
    fn = create_function(client, "handler", code=code)
    response = invoke(client, fn["FunctionName"])
    assert "FunctionError" not in response, response["Body"]
    path, task_root = json.loads(response["Body"])
    assert path == os.path.join(task_root, "decimal.py")  # the zip's, not the standard library's


def test_a_killed_zygote_takes_its_workers_and_the_next_cold_start_gets_a_new_one(client):
    fn = create_function(client, "handler", code=zip_of({"app.py": PROBE}))
    first = json.loads(invoke(client, fn["FunctionName"])["Body"])
    os.kill(first["ppid"], signal.SIGKILL)
    _wait_gone(first["pid"])  # PR_SET_PDEATHSIG: no worker outlives its zygote

    again = invoke(client, fn["FunctionName"])
    assert "FunctionError" not in again, again["Body"]
    second = json.loads(again["Body"])
    assert second["pid"] != first["pid"] and second["ppid"] != first["ppid"]
    assert "zygote_process.py" in _command_line(second["ppid"])


def test_an_invoke_just_after_the_zygote_died_gets_a_fresh_worker_before_the_reader_has_noticed(client, monkeypatch):
    """The zygote's reader thread learns of its end from the closed socket, a moment later (seconds, on a loaded
    machine): an invoke in between must not go to the idle worker that died with it. Lambda gives such an
    invocation a fresh environment; it never fails for an environment that ended between invocations."""
    fn = create_function(client, "handler", code=zip_of({"app.py": PROBE}))
    first = json.loads(invoke(client, fn["FunctionName"])["Body"])
    noticed = zygote.Zygote._died

    def late(self):  # the reader, slowed down: it takes in the end 1 s after the socket closed
        time.sleep(1)
        noticed(self)

    monkeypatch.setattr(zygote.Zygote, "_died", late)
    os.kill(first["ppid"], signal.SIGKILL)
    _wait_gone(first["pid"])
    again = invoke(client, fn["FunctionName"])
    assert "FunctionError" not in again, again["Body"]
    assert json.loads(again["Body"])["ppid"] != first["ppid"]


def test_stopping_the_runtime_ends_its_zygote(client, endpoint):
    fn = create_function(client, "handler", code=zip_of({"app.py": PROBE}))
    separate = runtime.LambdaRuntime(endpoint, "us-east-1")
    separate.start()
    from moto.awslambda.utils import get_backend

    function = get_backend("123456789012", "us-east-1").get_function(fn["FunctionName"])
    result = json.loads(separate.invoke(function, b"{}").payload)
    assert _alive(result["ppid"])
    separate.stop()
    assert not _alive(result["ppid"]) and not _alive(result["pid"])
