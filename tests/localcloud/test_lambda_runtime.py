"""Lambda through the local runtime: each test states a documented Lambda behaviour that plain moto (Docker-based
invoke, no Docker here) does not give."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fixtures_lambda.functions import HANDLERS, count, create_function, invoke, log_events, wait_for_logs, zip_of

from localcloud import runtime

STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 256 MB\tMax Memory Used: \d+ MB\t(?P<init>Init Duration: \d+\.\d\d ms\t)?\n$"
)


def group_of(name: str) -> str:
    return f"/aws/lambda/{name}"


def test_invoke_runs_the_handler_with_lambdas_environment(client, endpoint):
    slow_init = zip_of({"app.py": HANDLERS.read_text() + "\ntime.sleep(0.8)  # a slow cold start\n"})
    fn = create_function(
        client,
        "echo",
        code=slow_init,
        MemorySize=256,
        Environment={"Variables": {"GREETING": "hi", "AWS_REGION": "nope"}},
    )
    response = invoke(client, fn["FunctionName"], {"hello": "world"})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    result = json.loads(response["Body"])
    assert result["event"] == {"hello": "world"}
    env = result["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fn["FunctionName"] == result["function_name"]
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"  # reserved: the function's value loses
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == group_of(fn["FunctionName"])
    assert STREAM.match(env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_LAMBDA_LOG_FORMAT"] == "Text"
    assert env["_HANDLER"] == "app.echo"
    assert env["AWS_ENDPOINT_URL"] == endpoint
    assert env["GREETING"] == "hi"
    # The whole 3 s timeout counts from hand-off: the 0.8 s init is not taken out of it.
    assert 2700 < result["remaining_ms"] <= 3000


def test_each_invocation_logs_start_output_end_report_in_one_stream_per_worker(client):
    fn = create_function(client, "echo", MemorySize=256)
    first = invoke(client, fn["FunctionName"], {"n": 1})
    second = invoke(client, fn["FunctionName"], {"n": 2})
    ids = [json.loads(r["Body"])["request_id"] for r in (first, second)]

    streams = client("logs").describe_log_streams(logGroupName=group_of(fn["FunctionName"]))["logStreams"]
    assert len(streams) == 1  # a warm worker served the second request
    assert STREAM.match(streams[0]["logStreamName"])
    messages = [e["message"] for e in log_events(client, group_of(fn["FunctionName"]))]
    assert messages[0].startswith("INIT_START Runtime Version: ")
    for number, request_id in enumerate(ids, start=1):
        start = messages.index(f"START RequestId: {request_id} Version: $LATEST\n")
        assert messages[start + 1] == f'echo {{"n": {number}}}\n'
        assert messages[start + 2] == f"END RequestId: {request_id}\n"
        report = REPORT.match(messages[start + 3])
        assert report and report["id"] == request_id
        assert bool(report["init"]) == (number == 1)  # Init Duration only on the cold start


def test_json_log_format_writes_platform_records_to_the_configured_group(client):
    group = f"/custom/{os.urandom(4).hex()}"
    fn = create_function(client, "json_logging", LoggingConfig={"LogFormat": "JSON", "LogGroup": group})
    response = invoke(client, fn["FunctionName"], {"n": 7})
    assert response["Body"] == b'"ok"'

    messages = [e["message"] for e in log_events(client, group)]
    assert client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]  # created if missing
    records = [json.loads(m) for m in messages if m.startswith("{")]
    kinds = [r.get("type") for r in records]
    assert kinds[:2] == ["platform.initStart", "platform.start"]
    assert kinds[-1] == "platform.report"
    start, report = records[1]["record"], records[-1]["record"]
    assert start["version"] == "$LATEST"
    assert report["requestId"] == start["requestId"]
    assert set(report["metrics"]) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    app_record = next(r for r in records if r.get("level") == "INFO")
    assert app_record["message"] == "structured hello 7"
    assert app_record["requestId"] == start["requestId"]
    assert "plain print stays text\n" in messages  # print() output is not JSON, as in Lambda
    config = client("lambda").get_function_configuration(FunctionName=fn["FunctionName"])["LoggingConfig"]
    assert config == {"LogFormat": "JSON", "LogGroup": group, "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}


def test_log_type_tail_returns_the_last_4kb_of_the_log(client):
    fn = create_function(client, "chatty")
    response = invoke(client, fn["FunctionName"], {"lines": 100}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"])

    assert len(tail) == 4096
    assert tail.decode().rstrip("\t\n").split("\n")[-1].startswith("REPORT RequestId: ")
    assert b"line 00099 " in tail and b"line 00000 " not in tail
    assert "LogResult" not in invoke(client, fn["FunctionName"], {"lines": 1})  # only when asked


def test_handler_exception_is_an_unhandled_function_error(client):
    fn = create_function(client, "raises")
    response = invoke(client, fn["FunctionName"], {"why": "bad input"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom: bad input"
    assert any("in raises" in frame for frame in error["stackTrace"])
    messages = [e["message"] for e in log_events(client, group_of(fn["FunctionName"]))]
    assert any(
        m.startswith("[ERROR] ValueError: boom: bad input\nTraceback (most recent call last):") for m in messages
    )
    assert count(messages, "END RequestId: ") == count(messages, "REPORT RequestId: ") == 1
    assert invoke(client, fn["FunctionName"], {})["FunctionError"] == "Unhandled"  # the worker is still usable


def test_timeout_kills_the_worker_and_logs_task_timed_out(client):
    fn = create_function(client, "sleeps", Timeout=1)
    response = invoke(client, fn["FunctionName"], {"seconds": 30})

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    messages = [e["message"] for e in log_events(client, group_of(fn["FunctionName"]))]
    assert "going to sleep\n" in messages
    assert any(m.rstrip().endswith("Task timed out after 1.00 seconds") for m in messages)
    assert any(m.startswith("REPORT ") and "Status: timeout" in m for m in messages)
    # The killed environment is replaced by a fresh one: a new cold start, in a new stream.
    again = invoke(client, fn["FunctionName"], {"seconds": 0})
    assert again["Body"] == b'"woke up"'
    messages = [e["message"] for e in log_events(client, group_of(fn["FunctionName"]))]
    assert count(messages, "INIT_START") == 2


def test_runtime_that_exits_mid_request_is_a_runtime_exit_error(client):
    fn = create_function(client, "exits")
    response = invoke(client, fn["FunctionName"])

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    messages = [e["message"] for e in log_events(client, group_of(fn["FunctionName"]))]
    assert "leaving abruptly\n" in messages
    assert any(m.startswith("REPORT ") and "Error Type: Runtime.ExitError" in m for m in messages)


def test_handler_that_prints_nothing_still_gets_start_end_report(client):
    fn = create_function(client, "silent")
    response = invoke(client, fn["FunctionName"])

    assert response["Body"] == b"null"
    messages = [e["message"] for e in log_events(client, group_of(fn["FunctionName"]))]
    assert [m.split(" ")[0] for m in messages] == ["INIT_START", "START", "END", "REPORT"]


def test_import_failure_is_an_init_error(client):
    code = zip_of({"app.py": "import module_that_is_not_there\n\ndef echo(event, context):\n    return 1\n"})
    fn = create_function(client, "echo", code=code)
    response = invoke(client, fn["FunctionName"])

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'module_that_is_not_there'"
    messages = [e["message"] for e in log_events(client, group_of(fn["FunctionName"]))]
    assert any(m.startswith("[ERROR] Runtime.ImportModuleError: Unable to import module 'app'") for m in messages)
    assert any(m.startswith("INIT_REPORT ") and "Status: error" in m for m in messages)
    assert count(messages, "REPORT RequestId: ") == 1


def test_zip_without_the_handler_file_fails_to_import_and_the_cloud_keeps_serving(client):
    fn = create_function(client, "echo", code=zip_of({"other.py": "x = 1\n"}))
    response = invoke(client, fn["FunctionName"])

    error = json.loads(response["Body"])
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'app'"
    healthy = create_function(client, "silent")
    assert invoke(client, healthy["FunctionName"])["Body"] == b"null"


def test_new_code_or_configuration_gets_a_fresh_worker(client):
    fn = create_function(client, "echo", code=zip_of({"app.py": "def echo(e, c):\n    return 'v1'\n"}))
    name = fn["FunctionName"]
    assert invoke(client, name)["Body"] == b'"v1"'

    client("lambda").update_function_code(
        FunctionName=name, ZipFile=zip_of({"app.py": "def echo(e, c):\n    return 'v2'\n"})
    )
    assert invoke(client, name)["Body"] == b'"v2"'
    client("lambda").update_function_configuration(FunctionName=name, Environment={"Variables": {"A": "1"}})
    assert invoke(client, name)["Body"] == b'"v2"'

    messages = [e["message"] for e in log_events(client, group_of(name))]
    assert count(messages, "INIT_START") == 3
    assert len(client("logs").describe_log_streams(logGroupName=group_of(name))["logStreams"]) == 3


def test_event_invocation_is_accepted_before_the_function_runs(client):
    bucket = f"gate-{os.urandom(6).hex()}"
    client("s3").create_bucket(Bucket=bucket)
    fn = create_function(client, "waits_for_gate", Timeout=10)
    response = client("lambda").invoke(
        FunctionName=fn["FunctionName"], InvocationType="Event", Payload=json.dumps({"bucket": bucket}).encode()
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    # Only now open the gate: a synchronous Event invoke could never have seen it.
    client("s3").put_object(Bucket=bucket, Key="gate/open", Body=b"")
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") == 1)
    assert "GATE opened after the trigger returned\n" in messages


def test_output_reaches_the_log_while_the_function_is_still_running(client):
    bucket = f"gate-{os.urandom(6).hex()}"
    client("s3").create_bucket(Bucket=bucket)
    fn = create_function(client, "waits_for_gate", Timeout=10)
    payload = json.dumps({"bucket": bucket}).encode()
    client("lambda").invoke(FunctionName=fn["FunctionName"], InvocationType="Event", Payload=payload)

    # The function cannot finish before the gate opens, and the gate opens only once its first line is visible.
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: "GATE waiting\n" in m)
    assert "GATE waiting\n" in messages
    assert count(messages, "START RequestId: ") == 1 and count(messages, "END RequestId: ") == 0
    client("s3").put_object(Bucket=bucket, Key="gate/open", Body=b"")
    messages = wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: count(m, "REPORT") == 1)
    assert count(messages, "END RequestId: ") == 1


def test_replaced_code_stops_the_old_worker(client):
    fn = create_function(client, "pids")
    old = json.loads(invoke(client, fn["FunctionName"])["Body"])
    client("lambda").update_function_configuration(FunctionName=fn["FunctionName"], MemorySize=256)
    new = json.loads(invoke(client, fn["FunctionName"])["Body"])

    assert new["pid"] != old["pid"]
    _wait_gone(old["pid"])
    _wait_gone(old["child"])
    assert _alive(new["pid"])


def test_dry_run_validates_without_running(client):
    fn = create_function(client, "echo")
    response = client("lambda").invoke(FunctionName=fn["FunctionName"], InvocationType="DryRun")
    assert response["StatusCode"] == 204
    assert log_events(client, group_of(fn["FunctionName"])) == []


def test_concurrent_invocations_run_in_separate_workers(client):
    fn = create_function(client, "sleeps")
    with ThreadPoolExecutor(max_workers=3) as pool:
        bodies = list(pool.map(lambda _: invoke(client, fn["FunctionName"], {"seconds": 0.5})["Body"], range(3)))

    assert bodies == [b'"woke up"'] * 3
    streams = client("logs").describe_log_streams(logGroupName=group_of(fn["FunctionName"]))["logStreams"]
    assert len(streams) >= 2


def test_runtime_mismatch_is_warned_once(client, caplog):
    caplog.set_level(logging.WARNING, logger="localcloud")
    fn = create_function(client, "silent", Runtime="python3.9")
    invoke(client, fn["FunctionName"])
    invoke(client, fn["FunctionName"])
    warnings = [r for r in caplog.records if "declares Runtime python3.9" in r.getMessage()]
    assert len(warnings) == 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stopping_the_runtime_ends_every_worker_process(client, endpoint):
    fn = create_function(client, "pids")
    separate = runtime.LambdaRuntime(endpoint, "us-east-1")
    separate.start()
    from moto.awslambda.utils import get_backend

    function = get_backend("123456789012", "us-east-1").get_function(fn["FunctionName"])
    result = json.loads(separate.invoke(function, b"{}").payload)
    assert _alive(result["pid"]) and _alive(result["child"])
    separate.stop()
    assert not _alive(result["pid"])
    _wait_gone(result["child"])


def test_stopping_the_runtime_kills_a_running_invocation(client, endpoint):
    fn = create_function(client, "sleeps", Timeout=60)
    separate = runtime.LambdaRuntime(endpoint, "us-east-1")
    separate.start()
    from moto.awslambda.utils import get_backend

    function = get_backend("123456789012", "us-east-1").get_function(fn["FunctionName"])
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(separate.invoke, function, b'{"seconds": 60}')
        wait_for_logs(client, group_of(fn["FunctionName"]), lambda m: "going to sleep\n" in m)
        separate.stop()
        result = running.result(timeout=10)  # far sooner than the 60 s the function wanted
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorMessage"].endswith("Runtime exited with error: signal: killed")


def _wait_gone(pid: int) -> None:
    """Until the process has ended. A zombie has: the child is not ours to reap but init's (it was reparented),
    and init reaps when it gets round to it, seconds later on some machines."""
    deadline = time.monotonic() + 5
    while not _ended(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.01)
    assert _ended(pid)


def _ended(pid: int) -> bool:
    return not _alive(pid) or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time, boto3, localcloud
    sys.path.insert(0, sys.argv[1])
    from fixtures_lambda.functions import create_function, invoke

    try:
        with localcloud.start() as endpoint:
            clients = {}
            def client(service):
                return clients.setdefault(service, boto3.client(service, endpoint_url=endpoint))
            fn = create_function(client, "pids")
            print(invoke(client, fn["FunctionName"])["Body"].decode(), flush=True)
            time.sleep(60)
    except KeyboardInterrupt:
        # The with block's cleanup has run; skip the interpreter's teardown of moto's heap (about a second, and
        # no part of stopping the workers), and its atexit hooks, which must not be what stops them.
        os._exit(130)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and process groups")
def test_ctrl_c_of_the_process_ends_every_worker():
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    here = os.path.dirname(__file__)
    with subprocess.Popen(
        [sys.executable, "-c", CTRL_C_SCRIPT, here], stdout=subprocess.PIPE, env=env, text=True
    ) as proc:
        pids = json.loads(proc.stdout.readline())
        assert _alive(pids["pid"])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) != 0  # KeyboardInterrupt, after the cleanup
    _wait_gone(pids["pid"])
    _wait_gone(pids["child"])


KILL_9_SCRIPT = textwrap.dedent(
    """
    import sys, time, boto3, localcloud
    sys.path.insert(0, sys.argv[1])
    from fixtures_lambda.functions import create_function, invoke, wait_for_logs, zip_of

    IDLE = "import os\\ndef handler(event, context):\\n    return {'pid': os.getpid()}\\n"
    BUSY = "import os, time\\ndef handler(event, context):\\n    print(f'PID {os.getpid()}')\\n    time.sleep(60)\\n"
    with localcloud.start() as endpoint:
        clients = {}
        def client(service):
            return clients.setdefault(service, boto3.client(service, endpoint_url=endpoint))
        idle = create_function(client, "handler", code=zip_of({"app.py": IDLE}))
        print(invoke(client, idle["FunctionName"])["Body"].decode(), flush=True)
        busy = create_function(client, "handler", code=zip_of({"app.py": BUSY}), Timeout=60)
        invoke(client, busy["FunctionName"], InvocationType="Event")  # a dispatcher thread that then waits
        group = "/aws/lambda/" + busy["FunctionName"]
        lines = wait_for_logs(client, group, lambda m: any(line.startswith("PID ") for line in m))
        print([line.split()[1] for line in lines if line.startswith("PID ")][0], flush=True)
        time.sleep(60)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux-only")
def test_kill_9_of_the_process_ends_its_workers():
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    here = os.path.dirname(__file__)
    with subprocess.Popen(
        [sys.executable, "-c", KILL_9_SCRIPT, here], stdout=subprocess.PIPE, env=env, text=True
    ) as proc:
        idle = json.loads(proc.stdout.readline())["pid"]
        busy = int(proc.stdout.readline())
        assert _alive(idle) and _alive(busy)
        proc.kill()  # no cleanup can run: only the kernel can end the workers now
        proc.wait(timeout=10)
    _wait_gone(idle)
    _wait_gone(busy)
