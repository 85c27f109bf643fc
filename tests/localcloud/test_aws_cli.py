"""The console walkthrough's last two steps, done for real with the ``aws`` CLI against a running local cloud:
``aws s3 cp`` triggers the function, and ``aws logs filter-log-events`` finds its line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fixtures_lambda.functions import allow_s3, create_function, wait_for_logs

import localcloud

AWS = Path(sys.executable).with_name("aws")


def aws(endpoint: str, *args: str) -> str:
    env = {
        **os.environ,
        **localcloud.DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run([str(AWS), *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_aws_s3_cp_triggers_the_function_and_aws_logs_finds_its_line(client, endpoint, tmp_path):
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

    aws(endpoint, "s3", "cp", str(somefile), f"s3://{bucket}/")

    group = f"/aws/lambda/{fn['FunctionName']}"
    wait_for_logs(client, group, lambda messages: "S3EVENT somefile.txt\n" in messages)
    found = json.loads(aws(endpoint, "logs", "filter-log-events", "--log-group-name", group, "--output", "json"))
    assert "S3EVENT somefile.txt\n" in [event["message"] for event in found["events"]]
