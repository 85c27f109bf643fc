"""`invoke pipeline`'s own local cloud: a child process that starts while lint runs and never outlives the task."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import replace

import pytest

from pipeline import commands, embedded
from pipeline.config import ROOT
from pipeline.errors import UserError


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gone(pid: int, within: float = 60) -> bool:
    """Wait until the process has exited (polling its /proc entry), up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(")")[-1].split()[0] == "Z":  # exited, not yet reaped by its parent
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_pipeline_without_a_local_cloud_starts_one_deploys_verifies_and_stops_it(make_settings, capsys, monkeypatch):
    """Nothing listens at the configured endpoint: the pipeline brings its own cloud, and takes it away again."""
    started = []
    real_start = embedded.start

    def spy(region):
        with real_start(region) as child:
            started.append(child)
            yield child

    monkeypatch.setattr(embedded, "start", contextlib.contextmanager(spy))
    settings = replace(make_settings(), endpoint_url=f"http://127.0.0.1:{_free_port()}")
    commands.pipeline(settings, skip_lint=True)
    out = capsys.readouterr().out
    assert "starting an embedded one for this run" in out and "Verified: the function logged the upload" in out
    (child,) = started
    assert child.endpoint() != settings.endpoint_url
    assert child.url == child.endpoint()  # known (its port chosen) before it answered
    assert child.process.poll() is not None  # stopped before pipeline returned


def test_the_task_starts_the_local_cloud_before_its_heavy_imports():
    """`invoke pipeline` starts its local cloud before it imports the deploy (boto3 and the rest, 0.2 s), so the
    child's start overlaps them."""
    script = textwrap.dedent(
        """
        import contextlib, os, sys
        import invoke, tasks
        from pipeline import embedded

        @contextlib.contextmanager
        def spy(settings):
            print("starting; boto3 already imported:", "boto3" in sys.modules, flush=True)
            os._exit(0)
            yield

        embedded.for_pipeline = spy
        tasks.pipeline(invoke.Context())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "starting; boto3 already imported: False", done.stdout + done.stderr


def test_the_pipelines_clients_are_made_before_its_local_cloud_answers(make_settings):
    """The clients a deploy and its verify use are ready without one request: nothing listens at the endpoint."""
    from pipeline import aws

    settings = replace(make_settings(), endpoint_url=f"http://127.0.0.1:{_free_port()}")
    cloud = aws.prepare_own_local(settings)
    assert set(cloud._clients) == set(aws.PIPELINE_SERVICES) >= {"sts", "s3", "cloudformation", "lambda", "logs"}
    assert cloud.client("s3").meta.endpoint_url == settings.endpoint_url
    with pytest.raises(UserError, match="is not an AWS region"):
        aws.prepare_own_local(replace(settings, region="mars-1"))


def test_a_child_that_fails_to_start_is_one_readable_error():
    with tempfile.TemporaryFile("w+") as errors:
        failing = "import sys; sys.stderr.write('moto could not import\\n'); sys.exit(3)"
        process = subprocess.Popen(
            [sys.executable, "-c", failing], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        with pytest.raises(UserError) as caught:
            embedded.Child(process, errors).endpoint()
        process.stdin.close()
        process.stdout.close()
    message = str(caught.value)
    assert "did not start (exit status 3)" in message and "moto could not import" in message
    assert "invoke localcloud" in message and "Traceback" not in message


def test_the_child_stops_when_the_pipeline_is_killed(tmp_path):
    """kill -9 of the task's process closes the child's stdin, and the child stops its cloud and exits."""
    parent = textwrap.dedent(
        """
        import os, signal
        from pipeline import embedded
        with embedded.start("us-east-1") as child:
            print(child.process.pid, child.endpoint(), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", parent], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    pid, endpoint = done.stdout.split()
    assert endpoint.startswith("http://127.0.0.1:")
    assert _gone(int(pid)), "the embedded local cloud outlived the killed pipeline"


def test_the_warm_up_request_reaches_cloudformation(endpoint):
    """The child's one warm-up call is a real CloudFormation request: the answer for a stack that is not there.

    AWS answers DescribeStacks on a missing stack with ValidationError "Stack with id NAME does not exist", the
    answer pipeline.cfn.is_missing_stack reads; getting it means CloudFormation's engine handled the request.
    """
    answer = embedded.warm_up(endpoint, "us-east-1")
    assert "ValidationError" in answer and "Stack with id embedded-warm-up does not exist" in answer
