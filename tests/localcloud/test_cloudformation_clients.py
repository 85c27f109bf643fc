"""The awscli itself against the local cloud: ``aws cloudformation package`` then ``deploy --s3-bucket`` (which
uploads the template and passes a path-style TemplateURL on 127.0.0.1), for a create, an update and a no-op.

AWS behaviour relied on: ``deploy`` creates a change set (CREATE, then UPDATE), waits for it, executes it and
waits for the stack; with nothing to change CloudFormation fails the change set as empty, and awscli prints
"No changes to deploy. Stack <name> is up to date" and exits 255 (its default ``--fail-on-empty-changeset``).
Before the engine, moto read such a TemplateURL as bucket "127" (NoSuchBucket).

The awscli's waiters poll every 5 s (change sets) and 30 s (stacks); the test points botocore's AWS_DATA_PATH
at a copy of its own CloudFormation waiters with a 1 s delay, so it waits the same way, only sooner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import botocore
import pytest

import localcloud

AWS = Path(sys.executable).with_name("aws")
TEMPLATE = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: handler.handler
      Role: !GetAtt Role.Arn
      Code: ./src
Outputs:
  FunctionName: {Value: !Ref Function}
"""


@pytest.fixture
def fast_waiters(tmp_path: Path) -> Path:
    """botocore's CloudFormation waiters with a 1 s delay (same acceptors, same attempts)."""
    source = Path(botocore.__file__).parent / "data" / "cloudformation" / "2010-05-15" / "waiters-2.json"
    waiters = json.loads(source.read_text())
    for waiter in waiters["waiters"].values():
        waiter["delay"] = 1
    target = tmp_path / "data" / "cloudformation" / "2010-05-15"
    target.mkdir(parents=True)
    (target / "waiters-2.json").write_text(json.dumps(waiters))
    return tmp_path / "data"


def _aws(endpoint: str, data_path: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **localcloud.DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_DATA_PATH": str(data_path),
    }
    return subprocess.run([str(AWS), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_aws_cloudformation_package_and_deploy_create_update_and_no_op(client, endpoint, tmp_path, fast_waiters):
    cf, lam = client("cloudformation"), client("lambda")
    stack, bucket = f"cli-deploy-{uuid.uuid4().hex[:8]}", f"cli-artifacts-{uuid.uuid4().hex[:8]}"
    client("s3").create_bucket(Bucket=bucket)
    (tmp_path / "src").mkdir()
    (tmp_path / "template.yaml").write_text(TEMPLATE)

    def deploy(version: int | None) -> subprocess.CompletedProcess[str]:
        if version is not None:  # a rewritten file zips differently (mtime), so only a real change rewrites it
            (tmp_path / "src" / "handler.py").write_text(f"def handler(event, context):\n    return {version}\n")
        packaged = _aws(endpoint, fast_waiters, tmp_path, "cloudformation", "package", "--template-file",
                        "template.yaml", "--s3-bucket", bucket, "--output-template-file", "packaged.yaml")  # fmt: skip
        assert packaged.returncode == 0, packaged.stderr
        return _aws(endpoint, fast_waiters, tmp_path, "cloudformation", "deploy", "--template-file", "packaged.yaml",
                    "--stack-name", stack, "--s3-bucket", bucket, "--capabilities", "CAPABILITY_IAM")  # fmt: skip

    created = deploy(1)
    assert created.returncode == 0, created.stderr
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    name = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}["FunctionName"]
    before = lam.get_function_configuration(FunctionName=name)

    updated = deploy(2)
    assert updated.returncode == 0, updated.stderr
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    after = lam.get_function_configuration(FunctionName=name)
    assert after["FunctionArn"] == before["FunctionArn"] and after["CodeSha256"] != before["CodeSha256"]
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == 2

    unchanged = deploy(None)  # the empty change set: awscli's default --fail-on-empty-changeset exits 255
    assert (unchanged.returncode, unchanged.stderr.strip()) == (
        255,
        f"No changes to deploy. Stack {stack} is up to date",
    )
    cf.delete_stack(StackName=stack)
