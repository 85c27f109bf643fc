"""`invoke localcloud`: serves on the given port, prints the lines to paste, and Ctrl-C ends every worker."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import boto3

from pipeline.config import ROOT

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _descendants_running_awslambdaric(ancestor: int) -> set[int]:
    """The Lambda processes under ``ancestor``: workers, and the zygote they are forked from (localcloud.zygote)."""
    parents: dict[int, int] = {}
    lambda_pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"awslambdaric" in cmdline:
            lambda_pids.add(int(entry.name))

    def under(pid: int) -> bool:
        while pid in parents and pid != ancestor:
            pid = parents[pid]
        return pid == ancestor

    return {pid for pid in lambda_pids if under(pid)}


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def test_localcloud_task_serves_and_ctrl_c_ends_every_worker():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "invoke", "localcloud", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while not any("AWS_REGION" in line for line in lines):
            line = server.stdout.readline()
            assert line, "invoke localcloud exited early:\n" + "".join(lines)
            lines.append(line)
        printed = "".join(lines)
        assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port}" in printed
        assert "export AWS_ACCESS_KEY_ID=" in printed and "export AWS_SECRET_ACCESS_KEY=" in printed

        session = boto3.Session(aws_access_key_id="localcloud", aws_secret_access_key="localcloud")
        awslambda = session.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
        iam = session.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
        role = iam.create_role(RoleName="task-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        awslambda.create_function(
            FunctionName="task-test",
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip(HANDLER)},
        )
        assert awslambda.invoke(FunctionName="task-test")["Payload"].read() == b'{"ok": true}'
        workers = _descendants_running_awslambdaric(server.pid)
        assert len(workers) >= 2, "a warm worker (and the zygote it was forked from) should be running"

        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    finally:
        if server.poll() is None:
            server.kill()


def test_a_port_already_in_use_is_a_user_error_naming_the_fix():
    """Issue 8's bad input: `invoke localcloud --port N` with N taken gave a traceback; now one clear paragraph."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE_DEBUG"))}
        done = subprocess.run(
            [sys.executable, "-m", "invoke", "localcloud", "--port", str(port)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in output
    assert f"invoke localcloud --port {port + 1}" in output
    assert "Traceback" not in output and "bug" not in output.lower()
