"""The console walkthrough's last two steps, done for real with the ``aws`` CLI against a running local cloud:
``aws s3 cp`` triggers the function, and ``aws logs filter-log-events`` finds its line."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest
from awscli import clidriver
from fixtures_lambda.functions import allow_s3, create_function, wait_for_logs

import localcloud


@pytest.fixture
def aws(endpoint: str, monkeypatch, capsys) -> Callable[..., str]:
    """``aws(*args)``: the awscli's own entry point (``clidriver``, what the ``aws`` command runs) in this process,
    with the environment the walkthrough exports; its stdout. (A process per command cost ~0.6 s of CPU each.)"""
    env = {
        **localcloud.DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> str:
        capsys.readouterr()
        status = clidriver.create_clidriver().main(list(args))
        said = capsys.readouterr()
        assert status == 0, said.err
        return said.out

    return run


def test_aws_s3_cp_triggers_the_function_and_aws_logs_finds_its_line(client, aws, tmp_path):
    fn = create_function(client, "s3_record")
    bucket = f"cli-{os.urandom(6).hex()}"
    client("s3").create_bucket(Bucket=bucket)
    allow_s3(client, fn["FunctionArn"], bucket)
    client("s3").put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn["FunctionArn"], "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    somefile = tmp_path / "somefile.txt"
    somefile.write_text("hello from the aws CLI\n")

    aws("s3", "cp", str(somefile), f"s3://{bucket}/")

    group = f"/aws/lambda/{fn['FunctionName']}"
    wait_for_logs(client, group, lambda messages: "S3EVENT somefile.txt\n" in messages)
    found = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--output", "json"))
    assert "S3EVENT somefile.txt\n" in [event["message"] for event in found["events"]]
