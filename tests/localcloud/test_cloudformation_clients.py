"""The awscli itself against the local cloud: ``aws cloudformation package`` then ``deploy --s3-bucket`` (which
uploads the template and passes a path-style TemplateURL on 127.0.0.1), for a create, an update and a no-op.

AWS behaviour relied on: ``deploy`` creates a change set (CREATE, then UPDATE), waits for it, executes it and
waits for the stack; with nothing to change CloudFormation fails the change set as empty, and awscli prints
"No changes to deploy. Stack <name> is up to date" and exits 255 (its default ``--fail-on-empty-changeset``).
Before the engine, moto read such a TemplateURL as bucket "127" (NoSuchBucket).

awscli's deploy sets its waiters' delays itself (``WaiterConfig``: 5 s for the change set, 30 s for the stack), so
no data file shortens them: on a quiet machine the first poll found the stack done, and on a busy one the test
slept 30 s. The awscli runs here in this process, from its own entry point (``clidriver``), with botocore's waiter
sleeping at most 0.2 s between the same polls; the requests are the ones the ``aws`` command makes.
"""

from __future__ import annotations

import json
import time
import types
import uuid
from collections.abc import Callable
from pathlib import Path

import botocore.waiter
import pytest
from awscli import clidriver

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
def aws(endpoint: str, tmp_path: Path, monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    """``aws(*args)`` runs the awscli in ``tmp_path`` against the local cloud: (exit status, stdout, stderr)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # conftest.py set the dummy credentials and the region
    monkeypatch.chdir(tmp_path)
    sleep = time.sleep
    monkeypatch.setattr(botocore.waiter, "time", types.SimpleNamespace(sleep=lambda seconds: sleep(min(seconds, 0.2))))

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = clidriver.create_clidriver().main(list(args))
        said = capsys.readouterr()
        return status, said.out, said.err

    return run


def test_aws_cloudformation_package_and_deploy_create_update_and_no_op(client, aws, tmp_path):
    cf, lam = client("cloudformation"), client("lambda")
    stack, bucket = f"cli-deploy-{uuid.uuid4().hex[:8]}", f"cli-artifacts-{uuid.uuid4().hex[:8]}"
    client("s3").create_bucket(Bucket=bucket)
    (tmp_path / "src").mkdir()
    (tmp_path / "template.yaml").write_text(TEMPLATE)

    def deploy(version: int | None) -> tuple[int, str, str]:
        if version is not None:  # a rewritten file zips differently (mtime), so only a real change rewrites it
            (tmp_path / "src" / "handler.py").write_text(f"def handler(event, context):\n    return {version}\n")
        packaged = aws("cloudformation", "package", "--template-file", "template.yaml", "--s3-bucket", bucket,
                       "--output-template-file", "packaged.yaml")  # fmt: skip
        assert packaged[0] == 0, packaged[2]
        return aws("cloudformation", "deploy", "--template-file", "packaged.yaml", "--stack-name", stack,
                   "--s3-bucket", bucket, "--capabilities", "CAPABILITY_IAM")  # fmt: skip

    created = deploy(1)
    assert created[0] == 0, created[2]
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    name = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}["FunctionName"]
    before = lam.get_function_configuration(FunctionName=name)

    updated = deploy(2)
    assert updated[0] == 0, updated[2]
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    after = lam.get_function_configuration(FunctionName=name)
    assert after["FunctionArn"] == before["FunctionArn"] and after["CodeSha256"] != before["CodeSha256"]
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == 2

    unchanged = deploy(None)  # the empty change set: awscli's default --fail-on-empty-changeset exits 255
    assert (unchanged[0], unchanged[2].strip()) == (
        255,
        f"No changes to deploy. Stack {stack} is up to date",
    )
    cf.delete_stack(StackName=stack)
