"""No task prints a credential or a signature, with or without --debug or PIPELINE_DEBUG=1.

Recognisable fake credentials go to the real command line against the local cloud (the aws code path, as in
CI): bootstrap, deploy and verify with ``invoke --debug`` (botocore's debug log: every request's headers, its
canonical request and signature) and with ``PIPELINE_DEBUG=1``, and a failing task's traceback.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

from pipeline import redact
from pipeline.config import ROOT

# moto maps any access key it does not know to its default account, so these work against the local cloud.
ACCESS_KEY_ID = "AKIAFAKEKEYFORTEST42"
SECRET = "fakeSecretKeyForTests/ShouldNeverBePrinted+0042"
TOKEN = "FakeSessionTokenForTests//ShouldNeverBePrinted+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789=="
SECRETS = (ACCESS_KEY_ID, SECRET, TOKEN, SECRET.split("/")[1], TOKEN[-40:])
SIGNATURE = re.compile(r"Signature[=:]\s*[0-9a-f]{64}", re.IGNORECASE)


def _invoke(endpoint: str, project: str, *args: str, extra: dict[str, str] | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE_", "INVOKE_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SESSION_TOKEN": TOKEN,
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "INVOKE_PIPELINE_PROJECT": project,
            "PIPELINE_TARGET": "aws",
            **(extra or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def assert_no_secret(done: subprocess.CompletedProcess) -> str:
    output = done.stdout + done.stderr
    for secret in SECRETS:
        assert secret not in output, f"{secret[:8]}... appears in the output"
    assert not SIGNATURE.search(output)
    assert not redact.ACCESS_KEY_ID.search(output)
    return output


def _delete_stacks(client, stacks: list[str]) -> None:
    """The bootstrap made the account's GitHub OIDC provider: its stack must go (and take it along) before the next
    test that creates one runs."""
    cloudformation = client("cloudformation")
    for stack in stacks:
        cloudformation.delete_stack(StackName=stack)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = cloudformation.describe_stacks()["Stacks"]
            if not [s for s in found if s["StackName"] == stack and s["StackStatus"] != "DELETE_COMPLETE"]:
                break
            time.sleep(0.05)  # the local cloud settles in milliseconds


# bootstrap, deploy and verify, then a verify that fails (the environment was never deployed), in one
# ``invoke --debug`` process with PIPELINE_DEBUG=1: invoke runs the tasks in turn as separate commands would, up to
# the first failure; --debug is process-wide, so a process per task showed nothing more.
TASKS = (
    ("bootstrap", "--repo", "octo/app", "--repo-id", "7", "--environment", "staging"),
    ("deploy", "--environment", "staging"),
    ("verify", "--environment", "staging"),
    ("verify", "--environment", "production"),
)


@pytest.fixture(scope="module")
def debugged(endpoint, client):
    """(project, the debugging run, each task's part of its stderr as (task, log) pairs); the stacks go after."""
    project = f"sec{uuid.uuid4().hex[:8]}"
    try:
        done = _invoke(endpoint, project, "--debug", *sum(TASKS, ()), extra={"PIPELINE_DEBUG": "1"})
        _, *logs = re.split(r"Executing <Call '(\w+)'", done.stderr)
        yield project, done, list(zip(logs[::2], logs[1::2], strict=True))
    finally:
        _delete_stacks(client, [f"{project}-staging", f"{project}-bootstrap-staging", f"{project}-bootstrap"])


def test_bootstrap_deploy_and_verify_print_no_credential_even_when_debugging(endpoint, debugged):
    project, done, logs = debugged
    assert_no_secret(done)
    assert [task for task, _ in logs] == [task[0] for task in TASKS], done.stderr[-3000:]  # none failed before
    assert "Verified: the function logged the upload" in done.stdout
    # Each task's debug log is there, with what it would have shown: redacted, not dropped.
    for task, log in logs:
        assert "botocore" in log and "Authorization" in log, task
        assert f"Credential={redact.REDACTED}" in log and "X-Amz-Security-Token" in log, task
    plain = _invoke(endpoint, project, "verify", "--environment", "staging", extra={"PIPELINE_DEBUG": "1"})
    output = assert_no_secret(plain)
    assert plain.returncode == 0, output[-3000:]


def test_a_failing_task_with_pipeline_debug_shows_its_traceback_and_no_credential(debugged):
    _, done, logs = debugged
    assert_no_secret(done)
    assert done.returncode != 0
    (task, failed) = logs[-1]
    assert task == "verify" and "Traceback" in failed and "does not exist" in failed


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (
            "{'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr//////////wEaCXVz', 'Authorization': b'AWS4-HMAC-SHA256 "
            "Credential=ASIAQWERTYUIOPASDFGH/20261201/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, "
            "Signature=" + "ab12" * 16 + "'}",
            "SignedHeaders=host;x-amz-date",
        ),
        ("CanonicalRequest:\nPUT\n/key\n\nx-amz-security-token:IQoJb3JpZ2luX2VjEJr\n", "CanonicalRequest"),
        ("Signature:\n" + "cd34" * 16, "Signature:"),
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAQWERTYUIOPASDFGH%2F2026&X-Amz-Signature=" + "9f" * 32,
            "b.s3",
        ),
        (
            "<Credentials><AccessKeyId>ASIAQWERTYUIOPASDFGH</AccessKeyId><SecretAccessKey>wJalr/K7MDENG</SecretAccessKey>"
            "<SessionToken>FwoGZXIvYXdz</SessionToken></Credentials>",
            "<Credentials>",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG and aws_session_token=FwoGZXIvYXdzEJr",
            "aws_secret_access_key",
        ),
    ],
)
def test_the_shapes_aws_prints_credentials_in_are_redacted(line, kept):
    out = redact.redact(line)
    for secret in (
        "IQoJb3JpZ2lu",
        "ASIAQWERTYUIOPASDFGH",
        "AKIAQWERTYUIOPASDFGH",
        "ab12ab12",
        "cd34cd34",
        "9f9f9f",
        "wJalr",
        "FwoGZXIvYXdz",
    ):
        assert secret not in out, (secret, out)
    assert kept in out and redact.REDACTED in out


def test_log_records_of_any_logger_are_redacted(caplog):
    redact.install({"AWS_SECRET_ACCESS_KEY": SECRET})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("botocore.endpoint").debug("Sending %s with %r", "request", {"secret": SECRET})
        try:
            raise ValueError(f"failed with {SECRET}")
        except ValueError:
            logging.getLogger("anything").exception("boom")
    assert SECRET not in caplog.text
    assert "Sending request with" in caplog.text and "boom" in caplog.text
    # Short dummy values (the local cloud's) are not treated as secrets.
    redact.register("localcloud")
    assert redact.redact("the localcloud endpoint") == "the localcloud endpoint"
