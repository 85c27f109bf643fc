"""The bad-input catalogue: every case gives one clear paragraph, a non-zero exit, no traceback, and leaves
nothing behind (no stack, no uploaded artifact, no marker object) as far as the test can see.

The cases are listed in ``bad_input_cases.py`` (command line) and below (inside the task boundary, in process).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace

import botocore.exceptions
import invoke_cli
import pytest
from bad_input_cases import CLI, Cli
from invoke.exceptions import Exit

from pipeline import commands
from pipeline.boundary import boundary
from pipeline.config import ROOT

DEAD_ENDPOINT = "http://127.0.0.1:9"


def run_cli(case: Cli, endpoint: str, tmp_path) -> subprocess.CompletedProcess:
    env = invoke_cli.clean_env({"AWS_ENDPOINT_URL": endpoint if case.live_cloud else DEAD_ENDPOINT, **case.env})
    cwd = ROOT
    if case.invoke_yaml is not None:
        cwd = tmp_path / "project"
        cwd.mkdir()
        shutil.copy(ROOT / "tasks.py", cwd / "tasks.py")
        (cwd / "invoke.yaml").write_text(case.invoke_yaml)
    return invoke_cli.run(case.args, env=env, cwd=cwd, whole_process=case.whole_process)


def _stacks(client) -> set[str]:
    summaries = client("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}


@pytest.mark.parametrize("case", CLI, ids=[c.id for c in CLI])
def test_command_line(case, endpoint, client, tmp_path):
    done = run_cli(case, endpoint, tmp_path)
    record(case.what, done.stderr, done.returncode)
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert case.phrase in done.stderr, done.stderr
    assert "this is a bug" not in done.stderr.lower()
    if case.live_cloud:
        assert "s3-lambda-gitops-dev" not in _stacks(client)  # nothing deployed by a refused command


# -- in process, through the task boundary ----------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    id: str
    what: str
    phrase: str
    run: Callable  # (context) -> None; raises


def record(what: str, stderr: str, code: int) -> None:
    """With BAD_INPUTS_RECORD=path, append the case to it (bad_inputs_table.py renders bad_inputs.md from it)."""
    path = os.environ.get("BAD_INPUTS_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"what": what, "message": stderr.strip(), "code": code}) + "\n")


def _boundary(fn: Callable[[], object], capsys, what: str) -> tuple[int, str]:
    """Run ``fn`` inside the task boundary as a task would: (exit code, what it printed on stderr)."""
    code = 0
    try:
        with boundary():
            fn()
    except Exit as exc:
        code = exc.code
    err = capsys.readouterr().err
    record(what, err, code)
    return code, err


@pytest.fixture(scope="module")
def deployed(endpoint):
    """One stack for the cases that need one (each case checks it is left as it was)."""
    from pipeline.config import resolve

    settings = resolve(
        {"environments": {"badinputs": {}}, "environment": "badinputs"}, env={"AWS_ENDPOINT_URL": endpoint}
    )
    outputs = commands.deploy(settings).outputs
    return settings, outputs


def _markers(client, bucket: str) -> list[str]:
    page = client("s3").list_object_versions(Bucket=bucket, Prefix="verify/")
    return [v["Key"] for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]


@pytest.mark.parametrize("value", ["abc", "-5", "0", "nan", "inf", ""])
def test_verify_timeout_is_checked_before_anything_is_uploaded(value, deployed, client, capsys):
    settings, outputs = deployed
    code, err = _boundary(
        lambda: commands.verify(settings, timeout=value), capsys, f"invoke verify --timeout '{value}'"
    )
    assert code == 1
    assert "--timeout must be a positive number of seconds" in err and "Traceback" not in err
    assert _markers(client, outputs["BucketName"]) == []  # no marker was uploaded, so none is left behind


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_redrive_max_is_checked_before_anything_is_read(value, deployed, capsys):
    settings, _ = deployed
    code, err = _boundary(lambda: commands.redrive(settings, limit=value), capsys, f"invoke redrive --max '{value}'")
    assert code == 1 and "--max must be a whole number of at least 1" in err


CODE = {
    "syntax-error": ("handler.py", "def handler(event, context)\n    return 1\n", "SyntaxError"),
    "indentation-error": ("handler.py", "def handler(event, context):\nreturn 1\n", "IndentationError"),
    "tab-error": ("handler.py", "def handler(e, c):\n    x = 1\n\treturn x\n", "TabError"),
    "null-byte": ("handler.py", "def handler(e, c):\n    return 1\n\x00", "null bytes"),
    "helper-module": ("helpers/util.py", "def broken(:\n", "helpers/util.py, line 1"),
}


@pytest.mark.parametrize("name", sorted(CODE))
def test_function_code_that_does_not_compile_is_never_packaged(name, deployed, client, tmp_path, capsys):
    settings, _ = deployed
    lambda_dir = tmp_path / "lambda"
    shutil.copytree(ROOT / "lambda", lambda_dir, ignore=shutil.ignore_patterns("__pycache__"))
    path, code, phrase = CODE[name]
    (lambda_dir / path).parent.mkdir(parents=True, exist_ok=True)
    (lambda_dir / path).write_text(code)
    broken = replace(settings, lambda_dir=lambda_dir, environment=f"code-{name}")
    code, err = _boundary(lambda: commands.deploy(broken), capsys, f"lambda/{path}: {name.replace('-', ' ')}")
    assert code == 1
    assert phrase in err and "nothing was packaged, uploaded or deployed" in err.replace("Nothing", "nothing")
    bucket = settings.local_artifact_bucket
    assert client("s3").list_objects_v2(Bucket=bucket, Prefix=broken.artifact_key_prefix).get("KeyCount", 0) == 0


def test_a_missing_handler_is_refused(deployed, tmp_path, capsys):
    settings, _ = deployed
    (tmp_path / "lambda").mkdir()
    missing = replace(settings, lambda_dir=tmp_path / "lambda")
    code, err = _boundary(lambda: commands.deploy(missing), capsys, "lambda/ without handler.py")
    assert code == 1 and "handler.py is missing" in err


TEMPLATES = {
    "template-yaml": ("Resources:\n  A: [unclosed\n", "is not valid YAML"),
    "template-no-resources": ("Parameters: {}\n", "has no Resources section"),
    "template-missing": (None, "not found"),
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_broken_template_is_refused_before_anything_changes(name, deployed, client, tmp_path, capsys):
    settings, _ = deployed
    body, phrase = TEMPLATES[name]
    path = tmp_path / "app.yaml"
    if body is not None:
        path.write_text(body)
    broken = replace(settings, template=path, environment=f"tpl-{name}", stack_name=f"s3-lambda-gitops-{name}")
    code, err = _boundary(lambda: commands.deploy(broken), capsys, f"cloudformation/app.yaml: {name}")
    assert code == 1 and phrase in err
    assert broken.stack_name not in _stacks(client)


@pytest.mark.parametrize(
    ("parameters", "phrase"),
    [
        ({"FunctionMemory": "512"}, "does not declare"),
        ({"LogRetentionDays": "15"}, "Parameter 'LogRetentionDays'"),
        ({"FunctionMemorySize": "64"}, "Parameter 'FunctionMemorySize'"),
    ],
    ids=["unknown-parameter", "retention-not-allowed", "memory-below-minimum"],
)
def test_bad_parameters_are_refused_and_create_nothing(parameters, phrase, endpoint, client, capsys):
    from pipeline.config import resolve

    name = f"params{abs(hash(tuple(parameters.items()))) % 10_000}"
    settings = resolve(
        {"environments": {name: {}}, "environment": name, "parameters": parameters}, env={"AWS_ENDPOINT_URL": endpoint}
    )
    code, err = _boundary(lambda: commands.deploy(settings), capsys, f"invoke.yaml parameters {parameters}")
    assert code == 1 and phrase in err
    assert settings.stack_name not in _stacks(client)


def _client_error(code: str, message: str, operation: str = "CreateChangeSet") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


AWS_ERRORS = {
    "expired-token": (
        _client_error("ExpiredToken", "The security token included in the request is expired"),
        "AWS rejected the credentials (ExpiredToken",
    ),
    "access-denied": (
        _client_error("AccessDenied", "not authorized to perform cloudformation:CreateChangeSet"),
        "AWS denied CreateChangeSet",
    ),
    "sso-expired": (
        botocore.exceptions.TokenRetrievalError(provider="sso", error_msg="Token has expired"),
        "aws sso login",
    ),
    "no-endpoint": (
        botocore.exceptions.EndpointConnectionError(endpoint_url="https://cloudformation.x.amazonaws.com"),
        "Could not connect to https://cloudformation.x.amazonaws.com",
    ),
    "no-credentials": (botocore.exceptions.NoCredentialsError(), "No AWS credentials were found"),
}


@pytest.mark.parametrize("name", sorted(AWS_ERRORS))
def test_aws_credential_and_access_errors_are_explained(name, capsys):
    error, phrase = AWS_ERRORS[name]

    def fail():
        raise error

    code, err = _boundary(fail, capsys, f"AWS answers {name.replace('-', ' ')}")
    assert code == 1
    assert phrase in err and "Traceback" not in err and "bug" not in err


def test_a_port_in_use_is_a_user_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        def serve():  # what `invoke localcloud --port N` runs
            from pipeline import commands

            commands.serve_localcloud(port, "us-east-1")

        code, err = _boundary(serve, capsys, "invoke localcloud on a port already in use")
    assert code == 1 and f"Port {port} on 127.0.0.1 is already in use" in err
    assert "bug" not in err and "Traceback" not in err


def test_destroy_empties_a_bucket_of_more_than_one_listing_page(client):
    """More versions than one ListObjectVersions page (1,000), and delete markers: every one is deleted."""
    from pipeline.destroy import empty_bucket

    s3 = client("s3")
    bucket = "bad-inputs-many-versions"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # The 1,100 versions go straight into the local cloud's store (this process serves it): over HTTP they took
    # 10 s. Listing and deleting them, what is tested, goes through the API as always.
    from moto.s3.models import s3_backends

    store = s3_backends[client("sts").get_caller_identity()["Account"]]["aws"]
    for index in range(1_100):
        store.put_object(bucket, f"data/{index % 550}.txt", b"x")
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 1_000  # more than one page
    s3.delete_object(Bucket=bucket, Key="data/1.txt")  # a delete marker too
    assert empty_bucket(s3, bucket) == 1_101
    page = s3.list_object_versions(Bucket=bucket)
    assert not page.get("Versions") and not page.get("DeleteMarkers")
    s3.delete_bucket(Bucket=bucket)  # only an empty bucket can be deleted
